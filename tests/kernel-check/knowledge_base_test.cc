#include "kernel-check/knowledge_base.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "kernel-check/version.h"

namespace nestbox::kernel_check {
namespace {

TEST(KnowledgeBase, RowsAreWellFormed) {
  std::set<std::string> names;
  std::regex symbol("[A-Z0-9_]+");
  for (const Facility& f : knowledge_base()) {
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate " << f.name;
    EXPECT_TRUE(std::regex_match(f.name, std::regex("[a-z0-9_]+"))) << f.name;
    EXPECT_NE(std::string(f.title), "") << f.name;
    EXPECT_NE(f.sources, 0) << f.name;
    std::string expr = f.config;
    std::regex token("[^ |]+");
    for (auto it = std::sregex_iterator(expr.begin(), expr.end(), token); it != std::sregex_iterator(); ++it) {
      std::string t = it->str();
      if (t.rfind(">=", 0) == 0)
        EXPECT_TRUE(parse_version(t.substr(2))) << f.name << ": " << t;
      else
        EXPECT_TRUE(std::regex_match(t, symbol)) << f.name << ": " << t;
    }
    if (f.until.known()) {
      EXPECT_LT(f.since, f.until) << f.name;
    }
  }
}

TEST(KnowledgeBase, FeaturesComeFirstWithTheirBits) {
  auto kb = knowledge_base();
  ASSERT_GT(kb.size(), static_cast<size_t>(kFeatureCount));
  for (int i = 0; i < kFeatureCount; ++i) EXPECT_EQ(kb[i].bit, i);
  for (size_t i = kFeatureCount; i < kb.size(); ++i) EXPECT_EQ(kb[i].bit, -1) << kb[i].name;
}

TEST(KnowledgeBase, TheTalksTable) {
  // "Which Linux kernel version?": the eleven columns and their versions.
  const std::pair<const char*, Version> talk[] = {
      {"mount_ns", {2, 4, 19}}, {"selinux", {2, 6, 0}},   {"seccomp", {2, 6, 12}},  {"uts_ns", {2, 6, 19}},
      {"ipc_ns", {2, 6, 19}},   {"pid_ns", {2, 6, 24}},   {"net_ns", {2, 6, 24}},   {"cgroup_v1", {2, 6, 24}},
      {"apparmor", {2, 6, 36}}, {"user_ns", {3, 8, 0}},   {"cgroup_v2", {4, 5, 0}}};
  int rows = 0;
  for (const Facility& f : knowledge_base()) rows += (f.sources & kFromTalk) != 0;
  EXPECT_EQ(rows, 11);
  for (auto [name, since] : talk) {
    const Facility* f = find_facility(name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(f->since, since) << name;
    EXPECT_TRUE(f->sources & kFromTalk) << name;
  }
  // Later facts.
  const std::pair<const char*, Version> later[] = {
      {"seccomp_filter", {3, 5, 0}}, {"overlayfs", {3, 18, 0}}, {"pids", {4, 3, 0}},
      {"cgroup_ns", {4, 6, 0}},      {"cpu", {4, 15, 0}},       {"loop_configure", {5, 8, 0}},
      {"openat2", {5, 6, 0}},        {"cgroup_kill", {5, 14, 0}}};
  for (auto [name, since] : later) EXPECT_EQ(find_facility(name)->since, since) << name;
}

// Every option moby's contrib/check-config.sh checks by config symbol has a
// row whose expression names it.
TEST(KnowledgeBase, CoversMobyCheckConfig) {
  const char* moby[] = {
      "NAMESPACES", "NET_NS", "PID_NS", "IPC_NS", "UTS_NS", "CGROUPS", "CGROUP_SCHED", "KEYS", "VETH",
      "BRIDGE", "BRIDGE_NETFILTER", "IP_NF_FILTER", "IP_NF_MANGLE", "IP_NF_TARGET_MASQUERADE",
      "IP6_NF_FILTER", "IP6_NF_MANGLE", "IP6_NF_TARGET_MASQUERADE", "NETFILTER_XT_MATCH_ADDRTYPE",
      "NETFILTER_XT_MATCH_CONNTRACK", "NETFILTER_XT_MATCH_IPVS", "NETFILTER_XT_MARK", "IP_NF_RAW",
      "IP_NF_NAT", "NF_NAT", "IP6_NF_RAW", "IP6_NF_NAT", "POSIX_MQUEUE", "CGROUP_FREEZER",
      "CGROUP_DEVICE", "CPUSETS", "CGROUP_CPUACCT", "MEMCG", "DEVPTS_MULTIPLE_INSTANCES", "NF_NAT_IPV4",
      "NF_NAT_NEEDED", "CGROUP_BPF", "USER_NS", "SECCOMP", "SECCOMP_FILTER", "CGROUP_PIDS",
      "CGROUP_HUGETLB", "MEMCG_SWAP", "MEMCG_SWAP_ENABLED", "MEMCG_KMEM", "RESOURCE_COUNTERS",
      "NETPRIO_CGROUP", "CGROUP_NET_PRIO", "IOSCHED_CFQ", "CFQ_GROUP_IOSCHED", "BLK_CGROUP",
      "BLK_DEV_THROTTLING", "CGROUP_PERF", "NET_CLS_CGROUP", "CFS_BANDWIDTH", "FAIR_GROUP_SCHED",
      "IP_NF_TARGET_REDIRECT", "IP_VS", "IP_VS_NFCT", "IP_VS_PROTO_TCP", "IP_VS_PROTO_UDP", "IP_VS_RR",
      "SECURITY_SELINUX", "SECURITY_APPARMOR", "EXT3_FS", "EXT3_FS_XATTR", "EXT3_FS_POSIX_ACL",
      "EXT3_FS_SECURITY", "EXT4_FS", "EXT4_FS_POSIX_ACL", "EXT4_FS_SECURITY", "VXLAN",
      "BRIDGE_VLAN_FILTERING", "CRYPTO", "CRYPTO_AEAD", "CRYPTO_GCM", "CRYPTO_SEQIV", "CRYPTO_GHASH",
      "XFRM", "XFRM_USER", "XFRM_ALGO", "INET_ESP", "NETFILTER_XT_MATCH_BPF", "INET_XFRM_MODE_TRANSPORT",
      "IPVLAN", "MACVLAN", "DUMMY", "NF_NAT_FTP", "NF_CONNTRACK_FTP", "NF_NAT_TFTP", "NF_CONNTRACK_TFTP",
      "BTRFS_FS", "BTRFS_FS_POSIX_ACL", "OVERLAY_FS"};
  for (const char* sym : moby) {
    bool found = false;
    std::regex word("(^|[ |])" + std::string(sym) + "($|[ |])");
    for (const Facility& f : knowledge_base()) found |= std::regex_search(f.config, word);
    EXPECT_TRUE(found) << "CONFIG_" << sym;
  }
}

}  // namespace
}  // namespace nestbox::kernel_check
