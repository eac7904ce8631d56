#include "kernel-check/openwrt.h"

#include <set>
#include <string_view>

#include "kernel-check/features.h"

namespace nestbox::kernel_check {

namespace {

// The KERNEL_<SYMBOL> options OpenWrt's config/Config-kernel.in defines that
// nestbox may ask for, each with the option whose `if`/`depends on` block it
// sits in (selecting a child without its parent leaves it off in the kernel's
// config). A symbol not here has no buildroot option (PROC_FS, TMPFS,
// SQUASHFS_ZSTD, SECURITY_APPARMOR, ...): it is the target kernel config's
// business, and kernel-check on the built kernel's config decides it, as it
// does for ">=" clauses. tests/openwrt/fixtures/openwrt-kernel-symbols.txt
// holds the names as read from the real file; kernel_symbols_test checks this
// table against it.
struct KernelOption {
  std::string_view symbol;
  std::string_view parent;  // empty: top level
};
constexpr KernelOption kKernelOptions[] = {
    {"CGROUPS", ""},
    {"CGROUP_PIDS", "CGROUPS"},
    {"CGROUP_BPF", "CGROUPS"},
    {"CPUSETS", "CGROUPS"},
    {"MEMCG", "CGROUPS"},
    {"CGROUP_SCHED", "CGROUPS"},
    {"FAIR_GROUP_SCHED", "CGROUP_SCHED"},
    {"CFS_BANDWIDTH", "FAIR_GROUP_SCHED"},
    {"BLK_CGROUP", "CGROUPS"},
    {"SWAP", ""},
    {"NAMESPACES", ""},
    {"UTS_NS", "NAMESPACES"},
    {"IPC_NS", "NAMESPACES"},
    {"USER_NS", "NAMESPACES"},
    {"PID_NS", "NAMESPACES"},
    {"NET_NS", "NAMESPACES"},
    {"POSIX_MQUEUE", ""},
    {"SECCOMP", ""},
    {"SECCOMP_FILTER", ""},
    {"IPV6", ""},
    {"SECURITY_SELINUX", ""},
};

// Adds KERNEL_<symbol> and, transitively, its parents.
void add_kernel_option(std::string_view symbol, std::set<std::string>* out) {
  for (const KernelOption& o : kKernelOptions)
    if (o.symbol == symbol) {
      out->insert("KERNEL_" + std::string(symbol));
      if (!o.parent.empty()) add_kernel_option(o.parent, out);
      return;
    }
}

// Adds KERNEL_<first alternative> for every clause of `config` that no
// kernel version satisfies on its own and that OpenWrt has an option for.
void add_kernel_options(std::string_view config, std::set<std::string>* out) {
  size_t pos = 0;
  while (pos < config.size()) {
    size_t end = config.find(' ', pos);
    if (end == std::string_view::npos) end = config.size();
    std::string_view clause = config.substr(pos, end - pos);
    pos = end + 1;
    if (clause.empty() || clause.find(">=") != std::string_view::npos) continue;
    std::string_view first = clause.substr(0, clause.find('|'));
    add_kernel_option(first, out);
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
