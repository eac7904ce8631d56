// nestbox kernel-check --config C [--kernel-version V] [--manifests M...]
// [--json] [--warn-only]: will this kernel enforce these containers? Prints the
// talk's table for the kernel, every facility, then per container each feature
// its policy uses. Exit 1 when a container cannot be enforced (unless
// --warn-only), 2 on bad input. Logic lives in kernel-check/.
#include <iostream>

#include "cli/command.h"
#include "kernel-check/kernel_check.h"
#include "kernel-check/openwrt.h"
#include "manifests/manifest.h"

namespace nestbox::cli {

namespace {

struct KernelCheckArgs {
  std::string config;
  std::string kernel_version;
  std::vector<std::string> manifests;
  bool json = false;
  bool warn_only = false;
  bool openwrt_packages = false;
  bool openwrt_kconfig = false;
};

// One name per line: kmod-* packages, then CONFIG_KERNEL_*=y lines (the
// buildroot .config's form).
int print_openwrt(const KernelCheckArgs& a, const std::vector<kernel_check::ContainerNeeds>& needs) {
  kernel_check::OpenWrtNeeds o = kernel_check::openwrt_needs(needs);
  if (a.openwrt_packages)
    for (const std::string& p : o.packages) std::cout << p << "\n";
  if (a.openwrt_kconfig)
    for (const std::string& k : o.kernel_options) std::cout << "CONFIG_" << k << "=y\n";
  return 0;
}

int run_kernel_check(const KernelCheckArgs& a) {
  using namespace kernel_check;
  bool openwrt = a.openwrt_packages || a.openwrt_kconfig;
  if (openwrt && a.manifests.empty())
    return report("kernel-check", bad_input("--openwrt-packages/--openwrt-kconfig: --manifests required"));
  if (!openwrt && a.config.empty()) return report("kernel-check", bad_input("--config: required"));
  std::vector<ContainerNeeds> needs;
  for (const std::string& file : a.manifests) {
    Result<manifests::Manifest> m = manifests::load_file(file);
    if (!m.ok()) return report("kernel-check", m.error());
    needs.push_back(needs_of(*m));
  }
  if (openwrt) return print_openwrt(a, needs);
  Result<KernelConfig> config = load_config(a.config);
  if (!config.ok()) return report("kernel-check", config.error());
  std::optional<std::string> version_arg;
  if (!a.kernel_version.empty()) version_arg = a.kernel_version;
  Result<ResolvedVersion> version = resolve_version(*config, version_arg);
  if (!version.ok()) return report("kernel-check", version.error());
  Report r = check_config(*config, *version);
  add_containers(&r, needs);
  std::cout << (a.json ? render_json(r) : render_text(r));
  return exit_status(r, a.warn_only);
}

}  // namespace

Runner define_kernel_check(CLI::App& sub) {
  auto a = std::make_shared<KernelCheckArgs>();
  sub.add_option("--config", a->config,
                 "Kernel config: .config, /proc/config.gz, a distribution's config (required unless --openwrt-*)");
  sub.add_option("--kernel-version", a->kernel_version,
                 "Kernel version (default: the config's header line; never this host's uname)");
  sub.add_option("--manifests", a->manifests, "Container manifests whose needs are checked");
  sub.add_flag("--json", a->json, "Print the report as JSON");
  sub.add_flag("--warn-only", a->warn_only, "Exit 0 even when a container cannot be enforced");
  sub.add_flag("--openwrt-packages", a->openwrt_packages,
               "Print the OpenWrt kmod-* packages the --manifests need, one per line (no check)");
  sub.add_flag("--openwrt-kconfig", a->openwrt_kconfig,
               "Print the buildroot's CONFIG_KERNEL_*=y options the --manifests need (no check)");
  return [a] { return run_kernel_check(*a); };
}

}  // namespace nestbox::cli
