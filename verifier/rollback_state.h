// Anti-rollback state on the target: the highest installed version of each
// container, one small file per container name in a state directory
// ("<state_dir>/<name>.version", decimal + "\n"). Updated atomically (temp file,
// fsync, rename, fsync of the directory): a power cut leaves the old or the new
// value. Target-safe.
#pragma once

#include <cstdint>
#include <string>

#include "util/result.h"

namespace nestbox::verifier {

// A container name usable as a file name: [A-Za-z0-9._-], 1..63 bytes, not
// starting with '.'.
Status check_container_name(const std::string& name);

// The recorded version; 0 when nothing was ever installed under `name`.
Result<uint64_t> read_installed_version(const std::string& state_dir, const std::string& name);

// Records `version` for `name`. Refuses to lower the recorded version unless
// `allow_downgrade`.
Status record_installed_version(const std::string& state_dir, const std::string& name, uint64_t version,
                                bool allow_downgrade);

}  // namespace nestbox::verifier
