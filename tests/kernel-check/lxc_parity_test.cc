// Parity with the real lxc-checkconfig (Debian's lxc package): on each config,
// every option it reports gets the same enabled/missing answer from
// kernel-check. Options it derives from the build host rather than the config
// (cgroup mounts, /proc/self/ns/cgroup) are listed and skipped explicitly.
#include <gtest/gtest.h>
#include <stdio.h>

#include <map>
#include <regex>
#include <set>

#include "kernel-check/kernel_check.h"
#include "tests/kernel-check/test_util.h"

namespace nestbox::kernel_check {
namespace {

using testing::slurp;
using testing::TempDir;

// lxc-checkconfig's label -> kernel-check knowledge-base row.
const std::map<std::string, std::string> kLabels = {
    {"Namespaces", "namespaces"},
    {"Utsname namespace", "uts_ns"},
    {"Ipc namespace", "ipc_ns"},
    {"Pid namespace", "pid_ns"},
    {"User namespace", "user_ns"},
    {"Network namespace", "net_ns"},
    {"Multiple /dev/pts instances", "devpts_multiple_instances"},
    {"Cgroups", "cgroup_v1"},
    {"Cgroup device", "cgroup_device_v1"},
    {"Cgroup sched", "cgroup_sched"},
    {"Cgroup cpu account", "cgroup_cpuacct"},
    {"Cgroup memory controller", "memory"},
    {"Cgroup cpuset", "cpuset"},
    {"Veth pair device", "veth"},
    {"Macvlan", "macvlan"},
    {"Vlan", "vlan"},
    {"Bridges", "bridge"},
    {"Advanced netfilter", "netfilter_advanced"},
    {"CONFIG_NF_NAT_IPV4", "nf_nat_ipv4"},
    {"CONFIG_NF_NAT_IPV6", "nf_nat_ipv6"},
    {"CONFIG_IP_NF_TARGET_MASQUERADE", "ip_nf_target_masquerade"},
    {"CONFIG_IP6_NF_TARGET_MASQUERADE", "ip6_nf_target_masquerade"},
    {"CONFIG_NETFILTER_XT_TARGET_CHECKSUM", "netfilter_xt_target_checksum"},
    {"CONFIG_NETFILTER_XT_MATCH_COMMENT", "netfilter_xt_match_comment"},
    {"FUSE (for use with lxcfs)", "fuse_fs"},
    {"checkpoint restore", "checkpoint_restore"},
    {"CONFIG_FHANDLE", "fhandle"},
    {"CONFIG_EVENTFD", "eventfd"},
    {"CONFIG_EPOLL", "epoll"},
    {"CONFIG_UNIX_DIAG", "unix_diag"},
    {"CONFIG_INET_DIAG", "inet_diag"},
    {"CONFIG_PACKET_DIAG", "packet_diag"},
    {"CONFIG_NETLINK_DIAG", "netlink_diag"},
    {"File capabilities", "file_capabilities"},
};

// Reported from the machine running the script, not from CONFIG.
const std::set<std::string> kHostOnly = {"Cgroup namespace", "Cgroup v1 systemd controller",
                                         "Cgroup v1 freezer controller", "Cgroup v1 clone_children flag"};

std::string lxc_checkconfig() {
  for (const char* p : {"/usr/bin/lxc-checkconfig", "/usr/sbin/lxc-checkconfig"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

// Starts lxc-checkconfig on every config at once (the script greps the config
// once per option, so the runs are slow but independent), then collects.
std::vector<std::string> run_all(const std::vector<std::string>& configs) {
  std::vector<FILE*> pipes;
  for (const std::string& config : configs)
    pipes.push_back(::popen(("CONFIG='" + config + "' " + lxc_checkconfig() + " 2>&1").c_str(), "r"));
  std::vector<std::string> outs;
  for (FILE* f : pipes) {
    std::string out;
    char buf[4096];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    if (f) ::pclose(f);
    outs.push_back(std::move(out));
  }
  return outs;
}

// label -> enabled?, from lxc-checkconfig's output with colour codes removed.
std::map<std::string, bool> lxc_answers(std::string out) {
  out = std::regex_replace(out, std::regex("\x1b\\[[0-9;]*m"), "");
  std::map<std::string, bool> answers;
  std::regex line_re("^(.+): (enabled|missing|required)(, (not )?loaded)?$");
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, line_re)) answers[m[1]] = m[2] == "enabled";
  }
  return answers;
}


// Returns lxc-checkconfig's answers so callers can check they are not vacuous.
std::map<std::string, bool> expect_parity(const std::string& path, const std::string& lxc_output) {
  SCOPED_TRACE(path);
  Result<KernelConfig> cfg = load_config(path);
  if (!cfg.ok()) return ADD_FAILURE() << cfg.error().message, std::map<std::string, bool>{};
  Result<ResolvedVersion> v = resolve_version(*cfg, std::nullopt);
  if (!v.ok()) return ADD_FAILURE() << v.error().message, std::map<std::string, bool>{};
  std::map<std::string, bool> answers = lxc_answers(lxc_output);
  EXPECT_GE(answers.size(), 30u) << "lxc-checkconfig printed too few options:\n" << lxc_output;
  int compared = 0;
  for (const auto& [label, enabled] : answers) {
    if (kHostOnly.count(label)) continue;
    auto it = kLabels.find(label);
    if (it == kLabels.end()) {
      ADD_FAILURE() << "lxc-checkconfig reports '" << label << "', which kernel-check does not map";
      continue;
    }
    const Facility* f = find_facility(it->second);
    if (!f) {
      ADD_FAILURE() << it->second;
      continue;
    }
    FacilityStatus s = evaluate(*f, *cfg, v->version);
    EXPECT_EQ(enforceable(s.state), enabled)
        << label << ": lxc-checkconfig says " << (enabled ? "enabled" : "missing") << ", kernel-check "
        << f->name << " says " << to_string(s.state);
    ++compared;
  }
  EXPECT_GE(compared, 30);
  return answers;
}

std::vector<std::map<std::string, bool>> expect_parity_all(const std::vector<std::string>& paths) {
  std::vector<std::string> outputs = run_all(paths);
  std::vector<std::map<std::string, bool>> answers;
  for (size_t i = 0; i < paths.size(); ++i) answers.push_back(expect_parity(paths[i], outputs[i]));
  return answers;
}

class LxcParity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (lxc_checkconfig().empty())
      GTEST_SKIP() << "lxc-checkconfig not installed (scripts/install-deps.sh installs lxc)";
  }
};

TEST_F(LxcParity, DebianConfigs) {
  NESTBOX_REQUIRE_SHARED_CONFIGS();
  expect_parity_all(testing::debian_configs());
}

TEST_F(LxcParity, ThisMachine) {
  if (!std::filesystem::exists("/proc/config.gz")) GTEST_SKIP() << "/proc/config.gz absent";
  expect_parity_all({"/proc/config.gz"});
}

TEST_F(LxcParity, SyntheticVariants) {
  NESTBOX_REQUIRE_SHARED_CONFIGS();
  TempDir dir;
  std::string mipsel = slurp(testing::debian_configs()[3]);
  // Everything lxc checks as a module, then everything off; gzip as well.
  std::map<std::string, std::string> modules, off;
  for (const char* sym : {"VETH", "MACVLAN", "VLAN_8021Q", "BRIDGE", "FUSE_FS", "NETFILTER_XT_MATCH_COMMENT"})
    modules[sym] = "m", off[sym] = "n";
  for (const char* sym : {"EPOLL", "EVENTFD", "FHANDLE", "UNIX_DIAG", "INET_DIAG", "PACKET_DIAG",
                          "NETLINK_DIAG", "CHECKPOINT_RESTORE", "NETFILTER_ADVANCED"})
    off[sym] = "n";
  auto answers = expect_parity_all({dir.write("openwrt-small.config", testing::openwrt_small_flash(mipsel)),
                     dir.write("modules.config", testing::derive_config(mipsel, modules)),
                     dir.write("off.config.gz", testing::gzip(testing::derive_config(mipsel, off)))});
  // Not vacuous: the variants really flip lxc-checkconfig's answers.
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_FALSE(answers[0]["User namespace"]);
  EXPECT_FALSE(answers[0]["Cgroups"]);
  EXPECT_TRUE(answers[1]["Veth pair device"]);  // =m is enabled
  EXPECT_FALSE(answers[2]["Veth pair device"]);
  EXPECT_FALSE(answers[2]["CONFIG_EPOLL"]);
}

}  // namespace
}  // namespace nestbox::kernel_check
