// Public interface of the manifests component: load TOML manifests (schema v1)
// into validated Manifest values, and render them back as text or JSON.
//
// Errors are BadInput with "file:line:col: key.path: what is wrong; what was
// expected" (see docs/manifest.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "manifests/model.h"
#include "util/result.h"

namespace nestbox::manifests {

// Parses and validates one manifest file.
Result<Manifest> load_file(const std::string& path);

// Same, from memory; `file` names the source in messages and sets Manifest::dir.
Result<Manifest> load_string(std::string_view toml, const std::string& file);

// Resolves every relative [[rootfs.source]] path against `dir` instead of the
// manifest's own directory (`compose --staging DIR`: the firmware build's
// staged rootfs). "." names `dir` itself; absolute paths are kept.
void resolve_sources_in(Manifest& m, const std::string& dir);

// Checks what no single manifest can: unique names, namespaces joined from
// containers that exist and do not form a cycle, overlay bases.
Status validate_set(const std::vector<Manifest>& manifests);

// The resolved policy, as `nestbox show` prints it.
std::string to_text(const Manifest& m);
std::string to_json(const Manifest& m);   // pretty-printed, stable key order

// Reads what to_json wrote (round trip; used by tests and tooling).
Result<Manifest> from_json(std::string_view json, const std::string& file);

}  // namespace nestbox::manifests
