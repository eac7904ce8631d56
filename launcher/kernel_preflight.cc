#include "launcher/kernel_preflight.h"

#include <cstdio>

#include "kernel-check/probe.h"

namespace nestbox::launch {

namespace {

// "802.1Q VLAN (vlan): missing, enable CONFIG_VLAN_8021Q"; for what the
// kernel has but this host cannot use, the reason instead of CONFIG_ symbols
// that are already set: "... (io_weight): unusable, no disk uses bfq ...".
std::string describe(const kernel_check::FacilityStatus& s) {
  std::string out = std::string(s.facility->title) + " (" + s.facility->name + "): " + kernel_check::to_string(s.state);
  if (s.state == kernel_check::State::kUnusable) return out + ", " + s.detail;
  if (!s.enable.empty()) out += ", enable " + s.enable;
  if (s.state == kernel_check::State::kTooOld)
    out += ", needs kernel " + std::to_string(s.facility->since.major) + "." + std::to_string(s.facility->since.minor);
  return out;
}

using kernel_check::feature_bit;
using kernel_check::Feature;

constexpr uint64_t kDeferred = feature_bit(Feature::kSquashfsGzip) | feature_bit(Feature::kSquashfsXz) |
                               feature_bit(Feature::kSquashfsLzo) | feature_bit(Feature::kSquashfsLz4) |
                               feature_bit(Feature::kSquashfsZstd);

Status check_features(const policy::Policy& p, uint64_t wanted, const std::string& probe_root) {
  if (wanted == 0) return ok_status();
  kernel_check::ProbeOptions o;
  o.root = probe_root;
  o.features = wanted;
  kernel_check::Report report = kernel_check::probe_running_kernel(o);
  std::string refused, unknown;
  for (const kernel_check::FacilityStatus& s : report.facilities) {
    if (!(wanted & (uint64_t{1} << s.facility->bit))) continue;
    if (!enforceable(s.state) && s.state != kernel_check::State::kUnknown)
      refused += (refused.empty() ? "" : "; ") + describe(s);
    else if (s.state == kernel_check::State::kUnknown)
      unknown += (unknown.empty() ? "" : ", ") + std::string(s.facility->name) + " (" + s.detail + ")";
  }
  if (!unknown.empty())
    std::fprintf(stderr, "nestbox-launch: warning: %s: cannot tell whether the kernel has %s; continuing\n",
                 p.name.c_str(), unknown.c_str());
  if (!refused.empty())
    return failure(p.name + ": the running kernel lacks what the policy requires: " + refused);
  return ok_status();
}

}  // namespace

Status check_kernel_features(const policy::Policy& p, const std::string& probe_root) {
  return check_features(p, p.required_features & ~kDeferred, probe_root);
}

Status check_deferred_kernel_features(const policy::Policy& p, const std::string& probe_root) {
  return check_features(p, p.required_features & kDeferred, probe_root);
}

}  // namespace nestbox::launch
