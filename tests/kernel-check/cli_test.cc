// `nestbox kernel-check` end to end: the built binary on every shared config
// with the example manifests, the CI gate's exit statuses, and bad input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdio.h>
#include <sys/wait.h>

#include "kernel-check/kernel_check.h"
#include "manifests/manifest.h"
#include "tests/kernel-check/test_util.h"

namespace nestbox::kernel_check {
namespace {

using testing::slurp;
using testing::TempDir;

struct CliRun {
  int status;
  std::string out;  // stdout and stderr
};

CliRun nestbox(const std::string& args) {
  std::string bin = std::string(NESTBOX_BINARY_DIR) + "/cli/nestbox";
  CliRun r{-1, ""};
  FILE* f = ::popen((bin + " " + args + " 2>&1").c_str(), "r");
  if (!f) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int st = ::pclose(f);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string examples() {
  std::string dir = std::string(NESTBOX_SOURCE_DIR) + "/examples/";
  return dir + "dns.toml " + dir + "nas.toml " + dir + "untrusted-app.toml";
}

class KernelCheckCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(std::string(NESTBOX_BINARY_DIR) + "/cli/nestbox"))
      GTEST_SKIP() << "nestbox CLI not built";
  }
};

TEST_F(KernelCheckCli, EverySharedConfigWithTheExamples) {
  NESTBOX_REQUIRE_SHARED_CONFIGS();
  for (const std::string& config : testing::debian_configs()) {
    CliRun r = nestbox("kernel-check --config " + config + " --manifests " + examples());
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("(the talk's table)"), std::string::npos);
    EXPECT_NE(r.out.find("  nas ("), std::string::npos);
    EXPECT_NE(r.out.find("verdict: every container can be enforced by this kernel"), std::string::npos);
  }
}

// This machine's config: the CLI's exit status is the library's verdict.
TEST_F(KernelCheckCli, ThisMachine) {
  if (!std::filesystem::exists("/proc/config.gz")) GTEST_SKIP() << "/proc/config.gz absent";
  Result<KernelConfig> cfg = load_config("/proc/config.gz");
  ASSERT_TRUE(cfg.ok());
  Report r = check_config(*cfg, *resolve_version(*cfg, std::nullopt));
  std::vector<ContainerNeeds> needs;
  for (const char* f : {"dns.toml", "nas.toml", "untrusted-app.toml"}) {
    Result<manifests::Manifest> m = manifests::load_file(std::string(NESTBOX_SOURCE_DIR) + "/examples/" + f);
    ASSERT_TRUE(m.ok()) << m.error().message;
    needs.push_back(needs_of(*m));
  }
  add_containers(&r, needs);
  CliRun run = nestbox("kernel-check --config /proc/config.gz --manifests " + examples());
  EXPECT_EQ(run.status, r.all_enforceable() ? 0 : 1) << run.out;
  EXPECT_NE(run.out.find("nestbox kernel-check: config /proc/config.gz\n"), std::string::npos);
}

TEST_F(KernelCheckCli, GateFailsExactlyWhenAContainerCannotBeEnforced) {
  NESTBOX_REQUIRE_SHARED_CONFIGS();
  TempDir dir;
  std::string small = dir.write(
      "openwrt.config.gz", testing::gzip(testing::openwrt_small_flash(slurp(testing::debian_configs()[3]))));
  CliRun r = nestbox("kernel-check --config " + small + " --manifests " + examples());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("CANNOT BE ENFORCED"), std::string::npos);
  EXPECT_NE(r.out.find("MISSING  user_ns                 namespaces.user, users.user_namespace; enable "
                       "CONFIG_USER_NS"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(nestbox("kernel-check --warn-only --config " + small + " --manifests " + examples()).status, 0);
  // Without manifests nothing is required: the table alone never fails the gate.
  EXPECT_EQ(nestbox("kernel-check --config " + small).status, 0);
  CliRun j = nestbox("kernel-check --json --config " + small + " --manifests " + examples());
  EXPECT_EQ(j.status, 1);
  nlohmann::json doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["enforceable"], false);
  EXPECT_EQ(doc["kernel"]["from"], "config header");
  ASSERT_EQ(doc["containers"].size(), 3u);
  bool saw_user_ns = false;
  for (const auto& c : doc["containers"])
    for (const auto& u : c["uses"])
      if (u["feature"] == "user_ns") {
        saw_user_ns = true;
        EXPECT_EQ(u["state"], "missing");
        EXPECT_EQ(u["enable"], "CONFIG_USER_NS");
      }
  EXPECT_TRUE(saw_user_ns);
}

TEST_F(KernelCheckCli, BadInput) {
  TempDir dir;
  std::string notconfig = dir.write("fstab", "/dev/sda1 / ext4 defaults 0 1\n");
  CliRun r = nestbox("kernel-check --config " + notconfig);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "nestbox kernel-check: " + notconfig +
                       ":1:1: expected 'CONFIG_<NAME>=<value>', '# CONFIG_<NAME> is not set' or a "
                       "comment, got '/dev/sda1 / ext4 defaults 0 1'\n");
  std::string gz = testing::gzip(std::string(4000, '#') + "\nCONFIG_A=y\n");
  std::string cut = dir.write("cut.gz", gz.substr(0, gz.size() - 10));
  r = nestbox("kernel-check --config " + cut);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find(cut + ": truncated gzip data"), std::string::npos) << r.out;
  std::string ok = dir.write("ok.config", "CONFIG_USER_NS=y\n");
  r = nestbox("kernel-check --config " + ok);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("no kernel version"), std::string::npos);
  r = nestbox("kernel-check --config " + ok + " --kernel-version 6.one");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "nestbox kernel-check: --kernel-version '6.one': expected MAJOR.MINOR[.PATCH][-suffix], "
                   "e.g. 6.1.0-21-amd64\n");
  EXPECT_EQ(nestbox("kernel-check --config " + ok + " --kernel-version 6.1").status, 0);
  EXPECT_EQ(nestbox("kernel-check").status, 2);  // --config is required
  r = nestbox("kernel-check --config " + ok + " --kernel-version 6.1 --manifests " + notconfig);
  EXPECT_EQ(r.status, 2) << r.out;
}

}  // namespace
}  // namespace nestbox::kernel_check
