// kernel-check on real kernel configs: Debian 6.1 (amd64, arm64, armhf,
// mipsel), this machine's /proc/config.gz, and variants derived from them.
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <regex>

#include "kernel-check/kernel_check.h"
#include "kernel-check/version.h"
#include "tests/kernel-check/fixtures.h"
#include "tests/kernel-check/test_util.h"

namespace nestbox::kernel_check {
namespace {

using testing::debian_configs;
using testing::shared_configs_dir;
using testing::slurp;
using testing::TempDir;

Report check(const std::string& path, std::optional<std::string> version = std::nullopt) {
  Result<KernelConfig> cfg = load_config(path);
  EXPECT_TRUE(cfg.ok()) << cfg.error().message;
  if (!cfg.ok()) return {};
  Result<ResolvedVersion> v = resolve_version(*cfg, version);
  EXPECT_TRUE(v.ok()) << v.error().message;
  if (!v.ok()) return {};
  Report r = check_config(*cfg, *v);
  add_containers(&r, {needs_of(testing::nas_manifest()), needs_of(testing::app_manifest())});
  return r;
}

// Independent oracle: the raw text's answer for one symbol ('y', 'm' or 'n').
char raw_value(const std::string& text, const std::string& symbol) {
  std::smatch m;
  std::regex re("(^|\n)CONFIG_" + symbol + "=([ym])\n");
  return std::regex_search(text, m, re) ? m[2].str()[0] : 'n';
}

// Every row whose expression is one plain symbol must agree with the raw text.
void expect_rows_match_raw_text(const Report& r, const std::string& text) {
  for (const FacilityStatus& s : r.facilities) {
    std::string expr = s.facility->config;
    if (expr.empty() || expr.find_first_of(" |") != std::string::npos) continue;
    if (s.state == State::kTooOld) continue;
    char raw = raw_value(text, expr);
    State expected = raw == 'y' ? State::kAvailable : raw == 'm' ? State::kModule : State::kMissing;
    EXPECT_EQ(s.state, expected) << s.facility->name << " CONFIG_" << expr;
  }
}

TEST(DebianConfigs, TableAndVerdicts) {
  NESTBOX_REQUIRE_SHARED_CONFIGS();
  for (const std::string& path : debian_configs()) {
    SCOPED_TRACE(path);
    Report r = check(path);
    EXPECT_EQ(r.version.major, 6);
    EXPECT_EQ(r.version.minor, 1);
    EXPECT_EQ(r.version_source, "config header");
    expect_rows_match_raw_text(r, slurp(path));
    // The talk's table: a 6.1 distribution kernel has every column.
    for (const char* name : {"mount_ns", "uts_ns", "ipc_ns", "pid_ns", "net_ns", "user_ns", "cgroup_v1",
                             "cgroup_v2", "apparmor", "selinux", "seccomp"})
      EXPECT_TRUE(enforceable(r.find(name)->state)) << name;
    EXPECT_EQ(r.find("overlayfs")->state, State::kModule);
    EXPECT_EQ(r.find("squashfs_xz")->state, State::kModule);  // SQUASHFS=m, SQUASHFS_XZ=y
    EXPECT_EQ(r.find("squashfs_xz")->detail, "CONFIG_SQUASHFS=m, CONFIG_SQUASHFS_XZ=y");
    EXPECT_EQ(r.find("memory_swap")->state, State::kAvailable);  // MEMCG_SWAP is gone in 6.1
    EXPECT_EQ(r.find("nf_nat_ipv4"), nullptr);  // merged in 5.1: not checked on 6.1
    ASSERT_EQ(r.containers.size(), 2u);
    EXPECT_TRUE(r.all_enforceable());
    EXPECT_EQ(exit_status(r, false), 0);
  }
}

TEST(DebianConfigs, GzipGivesTheSameReport) {
  NESTBOX_REQUIRE_SHARED_CONFIGS();
  TempDir dir;
  std::string plain = debian_configs()[3];
  std::string gz = dir.write("config.gz", testing::gzip(slurp(plain)));
  Report a = check(plain), b = check(gz);
  ASSERT_EQ(a.facilities.size(), b.facilities.size());
  for (size_t i = 0; i < a.facilities.size(); ++i) {
    EXPECT_EQ(a.facilities[i].state, b.facilities[i].state) << a.facilities[i].facility->name;
    EXPECT_EQ(a.facilities[i].detail, b.facilities[i].detail);
  }
}

TEST(SyntheticConfigs, OpenWrtSmallFlashFailsTheGate) {
  NESTBOX_REQUIRE_SHARED_CONFIGS();
  TempDir dir;
  std::string text = testing::openwrt_small_flash(slurp(debian_configs()[3]));
  std::string path = dir.write("openwrt-small.config", text);
  Report r = check(path);
  expect_rows_match_raw_text(r, text);
  EXPECT_EQ(r.find("mount_ns")->state, State::kAvailable);  // no config symbol: always there
  for (const char* name : {"uts_ns", "ipc_ns", "pid_ns", "net_ns", "user_ns", "cgroup_v1", "cgroup_v2",
                           "seccomp", "seccomp_filter", "memory", "pids", "cgroup_freeze"})
    EXPECT_EQ(r.find(name)->state, State::kMissing) << name;
  EXPECT_EQ(r.find("squashfs_xz")->state, State::kAvailable);
  EXPECT_EQ(r.find("squashfs_zstd")->enable, "CONFIG_SQUASHFS_ZSTD");
  EXPECT_EQ(r.find("user_ns")->enable, "CONFIG_USER_NS");
  EXPECT_EQ(r.find("memory")->enable, "CONFIG_CGROUPS, CONFIG_MEMCG or CONFIG_CGROUP_MEM_RES_CTLR");
  ASSERT_EQ(r.containers.size(), 2u);
  EXPECT_FALSE(r.containers[0].enforceable());
  EXPECT_FALSE(r.containers[1].enforceable());
  EXPECT_EQ(exit_status(r, false), 1);
  EXPECT_EQ(exit_status(r, true), 0);
  // The app needs zstd and a user namespace; both named with their key.
  bool zstd = false, userns = false;
  for (const Use& u : r.containers[1].uses) {
    if (u.requirement.key == "rootfs.compressor") {
      zstd = true;
      EXPECT_EQ(u.state, State::kMissing);
      EXPECT_EQ(u.enable, "CONFIG_SQUASHFS_ZSTD");
    }
    if (u.requirement.key == "namespaces.user") {
      userns = true;
      EXPECT_EQ(u.enable, "CONFIG_USER_NS");
    }
  }
  EXPECT_TRUE(zstd && userns);
}

TEST(SyntheticConfigs, XzImageOnAZlibOnlyKernel) {
  NESTBOX_REQUIRE_SHARED_CONFIGS();
  TempDir dir;
  std::string text = testing::derive_config(
      slurp(debian_configs()[0]), {{"SQUASHFS_XZ", "n"}, {"SQUASHFS_LZ4", "n"}, {"SQUASHFS_LZO", "n"},
                                   {"SQUASHFS_ZSTD", "n"}, {"SQUASHFS_ZLIB", "y"}});
  Report r = check(dir.write("zlib-only.config", text));
  const ContainerVerdict& nas = r.containers[0];
  EXPECT_FALSE(nas.enforceable());
  int missing = 0;
  for (const Use& u : nas.uses)
    if (!enforceable(u.state)) {
      ++missing;
      EXPECT_EQ(facility(u.requirement.feature).name, std::string("squashfs_xz"));
      EXPECT_EQ(u.requirement.key, "rootfs.compressor");
      EXPECT_EQ(u.enable, "CONFIG_SQUASHFS_XZ");
    }
  EXPECT_EQ(missing, 1);
  EXPECT_EQ(r.find("squashfs_gzip")->state, State::kModule);
}

TEST(SyntheticConfigs, VersionOverrideMakesFacilitiesTooOld) {
  NESTBOX_REQUIRE_SHARED_CONFIGS();
  Report r = check(debian_configs()[0], "3.2.0-4-amd64");
  EXPECT_EQ(r.version_source, "--kernel-version");
  EXPECT_EQ(r.find("user_ns")->state, State::kTooOld);  // 3.8
  EXPECT_EQ(r.find("overlayfs")->state, State::kTooOld);  // 3.18
  EXPECT_EQ(r.find("seccomp_filter")->state, State::kTooOld);  // 3.5
  EXPECT_EQ(r.find("seccomp")->state, State::kAvailable);  // 2.6.12
  EXPECT_EQ(r.find("pid_ns")->state, State::kAvailable);
  ASSERT_NE(r.find("memcg_kmem"), nullptr);  // moby checks it on kernels before 4.6
  EXPECT_FALSE(r.all_enforceable());
  for (const Use& u : r.containers[1].uses)
    if (u.requirement.feature == Feature::kUserNs) {
      EXPECT_EQ(u.state, State::kTooOld);
      EXPECT_EQ(u.enable, "kernel >= 3.8.0");
    }
}

TEST(SyntheticConfigs, KernelMinAboveTheKernel) {
  NESTBOX_REQUIRE_SHARED_CONFIGS();
  Result<KernelConfig> cfg = load_config(debian_configs()[1]);
  ASSERT_TRUE(cfg.ok());
  Report r = check_config(*cfg, *resolve_version(*cfg, std::nullopt));
  ContainerNeeds n = needs_of(testing::nas_manifest());
  n.kernel_min = Version{6, 6, 0};
  add_containers(&r, {n});
  EXPECT_FALSE(r.containers[0].kernel_min_ok);
  EXPECT_EQ(exit_status(r, false), 1);
}

TEST(Versions, HeaderlessConfigNeedsAnArgument) {
  TempDir dir;
  std::string path = dir.write("noheader.config", "CONFIG_USER_NS=y\n");
  Result<KernelConfig> cfg = load_config(path);
  ASSERT_TRUE(cfg.ok());
  Result<ResolvedVersion> v = resolve_version(*cfg, std::nullopt);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message,
            path + ": no kernel version: the config has no '# Linux/<arch> <version> Kernel "
                   "Configuration' header; pass --kernel-version");
  v = resolve_version(*cfg, std::string("latest"));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message,
            "--kernel-version 'latest': expected MAJOR.MINOR[.PATCH][-suffix], e.g. 6.1.0-21-amd64");
  v = resolve_version(*cfg, std::string("5.15"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(to_string(v->version), "5.15.0");
}

TEST(ThisMachine, ProcConfigGz) {
  if (!std::filesystem::exists("/proc/config.gz"))
    GTEST_SKIP() << "/proc/config.gz absent (kernel built without CONFIG_IKCONFIG_PROC)";
  Result<KernelConfig> cfg = load_config("/proc/config.gz");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  utsname u;
  ASSERT_EQ(::uname(&u), 0);
  ASSERT_TRUE(cfg->version);
  EXPECT_EQ(*cfg->version, *parse_version(u.release));  // the header is this kernel's version
  Report r = check("/proc/config.gz");
  std::string text;
  {
    Result<std::string> raw = gunzip(slurp("/proc/config.gz"), "/proc/config.gz");
    ASSERT_TRUE(raw.ok());
    text = *raw;
  }
  expect_rows_match_raw_text(r, text);
}

}  // namespace
}  // namespace nestbox::kernel_check
