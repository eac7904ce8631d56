#include "kernel-check/kernel_check.h"

#include "kernel-check/expr.h"
#include "kernel-check/version.h"

namespace nestbox::kernel_check {

Result<ResolvedVersion> resolve_version(const KernelConfig& config,
                                        const std::optional<std::string>& argument) {
  if (argument) {
    std::optional<Version> v = parse_version(*argument);
    if (!v)
      return bad_input("--kernel-version '" + *argument +
                       "': expected MAJOR.MINOR[.PATCH][-suffix], e.g. 6.1.0-21-amd64");
    return ResolvedVersion{*v, "--kernel-version"};
  }
  if (config.version) return ResolvedVersion{*config.version, "config header"};
  return bad_input(config.file +
                   ": no kernel version: the config has no '# Linux/<arch> <version> Kernel "
                   "Configuration' header; pass --kernel-version");
}

namespace {

// "CONFIG_SQUASHFS=m, CONFIG_SQUASHFS_XZ=y": the symbols the row names that are set.
std::string evidence(const Facility& f, const KernelConfig& config) {
  std::string out;
  std::string_view expr = f.config;
  size_t pos = 0;
  while (pos < expr.size()) {
    size_t end = expr.find_first_of(" |", pos);
    if (end == std::string_view::npos) end = expr.size();
    std::string_view alt = expr.substr(pos, end - pos);
    pos = end + 1;
    if (alt.empty() || alt.substr(0, 2) == ">=") continue;
    Tristate t = config.tristate(alt);
    if (t == Tristate::kNo) continue;
    if (!out.empty()) out += ", ";
    out += "CONFIG_" + std::string(alt) + (t == Tristate::kYes ? "=y" : "=m");
  }
  return out;
}

}  // namespace

FacilityStatus evaluate(const Facility& f, const KernelConfig& config, const Version& kernel) {
  FacilityStatus s;
  s.facility = &f;
  if (f.since.known() && kernel < f.since) {
    s.state = State::kTooOld;
    s.detail = "first in " + to_string(f.since);
    return s;
  }
  ExprResult r = evaluate_expr(
      f.config, [&](std::string_view sym) { return config.tristate(sym); }, kernel);
  if (!r.satisfied) {
    s.state = State::kMissing;
    s.enable = r.unmet;
    return s;
  }
  s.state = r.module ? State::kModule : State::kAvailable;
  s.detail = evidence(f, config);
  if (s.detail.empty())
    s.detail = f.since.known() ? "in every kernel since " + to_string(f.since) : "always";
  return s;
}

Report check_config(const KernelConfig& config, const ResolvedVersion& version) {
  Report r;
  r.source = "config " + config.file;
  r.arch = config.arch;
  r.version = version.version;
  r.version_source = version.source;
  for (const Facility& f : knowledge_base()) {
    if (f.until.known() && version.version >= f.until) continue;
    r.facilities.push_back(evaluate(f, config, version.version));
  }
  return r;
}

int exit_status(const Report& report, bool warn_only) {
  return warn_only || report.all_enforceable() ? 0 : 1;
}

}  // namespace nestbox::kernel_check
