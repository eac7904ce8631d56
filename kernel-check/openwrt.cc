#include "kernel-check/openwrt.h"

#include <set>
#include <string_view>

#include "kernel-check/features.h"

namespace nestbox::kernel_check {

namespace {

// Adds KERNEL_<first alternative> for every clause of `config` that no
// kernel version satisfies on its own.
void add_kernel_options(std::string_view config, std::set<std::string>* out) {
  size_t pos = 0;
  while (pos < config.size()) {
    size_t end = config.find(' ', pos);
    if (end == std::string_view::npos) end = config.size();
    std::string_view clause = config.substr(pos, end - pos);
    pos = end + 1;
    if (clause.empty() || clause.find(">=") != std::string_view::npos) continue;
    std::string_view first = clause.substr(0, clause.find('|'));
    out->insert("KERNEL_" + std::string(first));
  }
}

}  // namespace

OpenWrtNeeds openwrt_needs(const std::vector<ContainerNeeds>& containers) {
  std::set<std::string> packages, options;
  for (const ContainerNeeds& c : containers)
    for (const Requirement& r : c.requirements) {
      const Facility& f = facility(r.feature);
      if (f.openwrt_kmod)
        packages.insert(f.openwrt_kmod);
      else
        add_kernel_options(f.config, &options);
    }
  return {{packages.begin(), packages.end()}, {options.begin(), options.end()}};
}

}  // namespace nestbox::kernel_check
