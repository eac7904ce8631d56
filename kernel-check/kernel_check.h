// Public interface of kernel-check on the host: will this kernel enforce these
// containers? Answered at firmware build time from the kernel's config.
//
//   KernelConfig cfg = load_config(path)                 (config.h)
//   Version v        = resolve_version(cfg, --kernel-version)
//   Report r         = check_config(cfg, v, source)      every knowledge-base row
//   add_containers(&r, {needs_of(manifest)...})          (report.h, requirements.h)
//   render_text(r) / render_json(r); exit_status(r, warn_only)
#pragma once

#include <optional>
#include <string>

#include "kernel-check/config.h"
#include "kernel-check/knowledge_base.h"
#include "kernel-check/report.h"
#include "kernel-check/requirements.h"
#include "util/result.h"

namespace nestbox::kernel_check {

struct ResolvedVersion {
  Version version;
  std::string source;  // "--kernel-version" or "config header"
};

// The kernel version: `argument` (from --kernel-version) when given, else the
// config's header line, else bad input. Never the build host's uname.
Result<ResolvedVersion> resolve_version(const KernelConfig& config,
                                        const std::optional<std::string>& argument);

// Status of every knowledge-base row for this config and version. Rows whose
// `until` the kernel has reached are left out (merged or removed options).
Report check_config(const KernelConfig& config, const ResolvedVersion& version);

// The status of one row (used by check_config and the lxc parity test).
FacilityStatus evaluate(const Facility& f, const KernelConfig& config, const Version& kernel);

// 0 when every container can be enforced or warn_only, else 1 (the CI gate).
int exit_status(const Report& report, bool warn_only);

}  // namespace nestbox::kernel_check
