// nestbox kernel-check --config C [--kernel-version V] [--manifests M...]
// [--json] [--warn-only]: will this kernel enforce these containers? Prints the
// talk's table for the kernel, every facility, then per container each feature
// its policy uses. Exit 1 when a container cannot be enforced (unless
// --warn-only), 2 on bad input. Logic lives in kernel-check/.
#include <iostream>

#include "cli/command.h"
#include "kernel-check/kernel_check.h"
#include "manifests/manifest.h"

namespace nestbox::cli {

namespace {

struct KernelCheckArgs {
  std::string config;
  std::string kernel_version;
  std::vector<std::string> manifests;
  bool json = false;
  bool warn_only = false;
};

int run_kernel_check(const KernelCheckArgs& a) {
  using namespace kernel_check;
  Result<KernelConfig> config = load_config(a.config);
  if (!config.ok()) return report("kernel-check", config.error());
  std::optional<std::string> version_arg;
  if (!a.kernel_version.empty()) version_arg = a.kernel_version;
  Result<ResolvedVersion> version = resolve_version(*config, version_arg);
  if (!version.ok()) return report("kernel-check", version.error());
  std::vector<ContainerNeeds> needs;
  for (const std::string& file : a.manifests) {
    Result<manifests::Manifest> m = manifests::load_file(file);
    if (!m.ok()) return report("kernel-check", m.error());
    needs.push_back(needs_of(*m));
  }
  Report r = check_config(*config, *version);
  add_containers(&r, needs);
  std::cout << (a.json ? render_json(r) : render_text(r));
  return exit_status(r, a.warn_only);
}

}  // namespace

Runner define_kernel_check(CLI::App& sub) {
  auto a = std::make_shared<KernelCheckArgs>();
  sub.add_option("--config", a->config, "Kernel config: .config, /proc/config.gz, a distribution's config")
      ->required();
  sub.add_option("--kernel-version", a->kernel_version,
                 "Kernel version (default: the config's header line; never this host's uname)");
  sub.add_option("--manifests", a->manifests, "Container manifests whose needs are checked");
  sub.add_flag("--json", a->json, "Print the report as JSON");
  sub.add_flag("--warn-only", a->warn_only, "Exit 0 even when a container cannot be enforced");
  return [a] { return run_kernel_check(*a); };
}

}  // namespace nestbox::cli
