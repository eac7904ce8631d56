// The firewall's nf_tables batch: its encoding parsed back with libmnl
// (FirewallBatchTest, unprivileged), and the kernel's acceptance of it in a
// network namespace the test creates (FirewallKernelTest, root).
#include "network/firewall.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace nestbox::network {
namespace {

policy::Policy sample() {
  policy::Policy p;
  p.name = "c";
  p.net = policy::NetMode::kInterfaces;
  policy::Interface eth0;
  eth0.type = policy::IfType::kVeth;
  eth0.name = "eth0";
  eth0.bridge = "br-c";
  eth0.addresses = {"10.9.0.2/24"};
  p.interfaces = {eth0};
  p.firewall.enabled = true;
  p.firewall.masquerade = true;
  p.firewall.allow_out = policy::kZoneWan;
  p.firewall.lan = {"br-lan"};
  p.firewall.wan = {"wan0"};
  p.firewall.allow_in = {{"eth0", policy::FwProtocol::kTcp, policy::kZoneLan, {80}}};
  return p;
}

std::string hex(const void* data, size_t len) {
  std::string s;
  char b[3];
  for (size_t i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, "%02x", static_cast<const uint8_t*>(data)[i]);
    s += b;
  }
  return s;
}

// libmnl's iteration macros assign void* (C only): the same walk, typed.
template <typename F>
void each_attr(const void* start, const void* end, F f) {
  for (auto* a = static_cast<const nlattr*>(start);
       mnl_attr_ok(a, static_cast<int>(static_cast<const char*>(end) - reinterpret_cast<const char*>(a)));
       a = mnl_attr_next(a))
    f(a);
}
void each_nested(const nlattr* parent, const std::function<void(const nlattr*)>& f) {
  const char* p = static_cast<const char*>(mnl_attr_get_payload(parent));
  each_attr(p, p + mnl_attr_get_payload_len(parent), f);
}
void each_top(const nlmsghdr* nlh, const std::function<void(const nlattr*)>& f) {
  each_attr(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)), mnl_nlmsg_get_payload_tail(nlh), f);
}

std::map<int, const nlattr*> nested(const nlattr* parent) {
  std::map<int, const nlattr*> out;
  each_nested(parent, [&](const nlattr* a) { out[mnl_attr_get_type(a)] = a; });
  return out;
}

uint32_t be32(const nlattr* a) { return ntohl(mnl_attr_get_u32(a)); }
std::string value(const nlattr* data) {
  const nlattr* v = nested(data).at(NFTA_DATA_VALUE);
  return hex(mnl_attr_get_payload(v), mnl_attr_get_payload_len(v));
}

// One expression as text, in the spirit of `nft --debug=netlink`.
std::string expr_text(const nlattr* elem) {
  auto e = nested(elem);
  std::string name = mnl_attr_get_str(e.at(NFTA_EXPR_NAME));
  auto d = nested(e.at(NFTA_EXPR_DATA));
  if (name == "meta") return "meta " + std::to_string(be32(d.at(NFTA_META_KEY)));
  if (name == "cmp") return std::string(be32(d.at(NFTA_CMP_OP)) == NFT_CMP_EQ ? "== " : "!= ") + value(d.at(NFTA_CMP_DATA));
  if (name == "payload")
    return "payload " + std::to_string(be32(d.at(NFTA_PAYLOAD_BASE))) + "+" + std::to_string(be32(d.at(NFTA_PAYLOAD_OFFSET))) +
           "/" + std::to_string(be32(d.at(NFTA_PAYLOAD_LEN)));
  if (name == "bitwise") return "& " + value(d.at(NFTA_BITWISE_MASK)) + " ^ " + value(d.at(NFTA_BITWISE_XOR));
  if (name == "ct") return "ct " + std::to_string(be32(d.at(NFTA_CT_KEY)));
  if (name == "immediate") {
    auto v = nested(nested(d.at(NFTA_IMMEDIATE_DATA)).at(NFTA_DATA_VERDICT));
    return be32(v.at(NFTA_VERDICT_CODE)) == NF_ACCEPT ? "accept" : "drop";
  }
  return name;
}

struct Parsed {
  std::vector<std::string> messages;  // "type:flags" per message, batch markers included
  std::vector<std::string> rules;     // "chain: expr; expr; ..."
  std::vector<std::string> chains;    // "name type hook prio"
};

Parsed parse(const Batch& b) {
  Parsed out;
  int len = static_cast<int>(b.length);
  for (auto* nlh = static_cast<const nlmsghdr*>(b.data()); mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    out.messages.push_back(std::to_string(nlh->nlmsg_type) + ":" + std::to_string(nlh->nlmsg_flags) + ":" +
                           std::to_string(nfg->nfgen_family) + ":" + std::to_string(ntohs(nfg->res_id)));
    std::map<int, const nlattr*> a;
    each_top(nlh, [&](const nlattr* at) { a[mnl_attr_get_type(at)] = at; });
    uint16_t type = nlh->nlmsg_type & 0xff;
    if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES) continue;
    if (type == NFT_MSG_NEWCHAIN) {
      auto h = nested(a.at(NFTA_CHAIN_HOOK));
      out.chains.push_back(std::string(mnl_attr_get_str(a.at(NFTA_CHAIN_TABLE))) + " " +
                           mnl_attr_get_str(a.at(NFTA_CHAIN_NAME)) + " " + mnl_attr_get_str(a.at(NFTA_CHAIN_TYPE)) + " " +
                           std::to_string(be32(h.at(NFTA_HOOK_HOOKNUM))) + " " +
                           std::to_string(static_cast<int32_t>(be32(h.at(NFTA_HOOK_PRIORITY)))) + " " +
                           std::to_string(be32(a.at(NFTA_CHAIN_POLICY))));
    } else if (type == NFT_MSG_NEWRULE) {
      std::string r = std::string(mnl_attr_get_str(a.at(NFTA_RULE_CHAIN))) + ":";
      each_nested(a.at(NFTA_RULE_EXPRESSIONS), [&](const nlattr* e) { r += " " + expr_text(e) + ";"; });
      out.rules.push_back(r);
    }
  }
  EXPECT_EQ(len, 0) << "trailing bytes in the batch";
  return out;
}

const std::string kIif = "meta 6; ", kOif = "meta 7; ";
std::string name16(const std::string& n) { return "== " + hex(n.c_str(), n.size()) + std::string(2 * (16 - n.size()), '0') + ";"; }
const std::string kEstablished = " ct 0; & 06000000 ^ 00000000; != 00000000;";

TEST(FirewallBatchTest, OneAtomicBatchWithTableChainsAndRules) {
  auto b = build_firewall_batch(sample());
  ASSERT_TRUE(b.ok()) << b.error().message;
  Parsed p = parse(*b);
  ASSERT_GE(p.messages.size(), 3u);
  // BATCH_BEGIN / END name the nf_tables subsystem; every message in between
  // asks for an ack (the launcher checks each); the table is created EXCL.
  EXPECT_EQ(p.messages.front(), std::to_string(NFNL_MSG_BATCH_BEGIN) + ":1:0:" + std::to_string(NFNL_SUBSYS_NFTABLES));
  EXPECT_EQ(p.messages.back(), std::to_string(NFNL_MSG_BATCH_END) + ":1:0:" + std::to_string(NFNL_SUBSYS_NFTABLES));
  EXPECT_EQ(p.messages[1], std::to_string((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE) + ":" +
                               std::to_string(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL) + ":1:0");
  EXPECT_EQ(b->acked.size(), p.messages.size() - 2);
  EXPECT_EQ(p.chains, (std::vector<std::string>{"nestbox-c input filter 1 0 1", "nestbox-c output filter 3 0 1",
                                                "nestbox-c forward filter 2 0 1", "nestbox-c postrouting nat 4 100 1"}));
  std::string c = name16("br-c"), lan = name16("br-lan"), wan = name16("wan0");
  std::vector<std::string> want = {
      "input: " + kIif + c + kEstablished + " accept;",
      "input: " + kIif + c + " drop;",  // no host in allow_out
      "output: " + kOif + c + kEstablished + " accept;",
      "output: " + kOif + c + " drop;",  // port 80 is from the LAN only
      "forward: " + kIif + c + kEstablished + " accept;",
      "forward: " + kOif + c + kEstablished + " accept;",
      "forward: " + kIif + c + " " + kOif + wan + " accept;",
      "forward: " + kIif + c + " drop;",
      "forward: " + kIif + lan + " " + kOif + c + " meta 16; == 06; payload 2+2/2; == 0050; accept;",
      "forward: " + kOif + c + " drop;",
      "postrouting: meta 15; == 02; payload 1+12/4; & ffffff00 ^ 00000000; == 0a090000; " + kOif + wan + " masq;",
  };
  EXPECT_EQ(p.rules, want);
}

TEST(FirewallBatchTest, IcmpIsBothFamiliesAndHostZoneUsesOutput) {
  policy::Policy pol = sample();
  pol.firewall.masquerade = false;
  pol.firewall.allow_out = policy::kZoneHost;
  pol.firewall.allow_in = {{"eth0", policy::FwProtocol::kIcmp, policy::kZoneHost, {}}};
  auto b = build_firewall_batch(pol);
  ASSERT_TRUE(b.ok()) << b.error().message;
  Parsed p = parse(*b);
  EXPECT_EQ(p.chains.size(), 3u);  // no NAT chain without masquerade
  std::string c = name16("br-c");
  EXPECT_EQ(p.rules[1], "input: " + kIif + c + " accept;");
  EXPECT_EQ(p.rules[4], "output: " + kOif + c + " meta 16; == 01; accept;");
  EXPECT_EQ(p.rules[5], "output: " + kOif + c + " meta 16; == 3a; accept;");
}

TEST(FirewallBatchTest, DeleteBatchNamesOnlyTheContainersTable) {
  Batch b = build_delete_batch("nas");
  Parsed p = parse(b);
  ASSERT_EQ(p.messages.size(), 3u);
  EXPECT_EQ(p.messages[1], std::to_string((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE) + ":" +
                               std::to_string(NLM_F_REQUEST | NLM_F_ACK) + ":1:0");
  int len = static_cast<int>(b.length);
  const nlmsghdr* del = mnl_nlmsg_next(static_cast<const nlmsghdr*>(b.data()), &len);
  std::string table;
  each_top(del, [&](const nlattr* a) {
    if (mnl_attr_get_type(a) == NFTA_TABLE_NAME) table = mnl_attr_get_str(a);
  });
  EXPECT_EQ(table, "nestbox-nas");
}

TEST(FirewallBatchTest, RefusesADisabledFirewall) {
  policy::Policy pol = sample();
  pol.firewall = {};
  auto b = build_firewall_batch(pol);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "firewall of c: not enabled in the policy");
}

// --- the kernel ------------------------------------------------------------------

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

// Runs fn on a thread inside network namespace `ns` (created by the test).
template <typename Fn>
void in_netns(const std::string& ns, Fn fn) {
  std::thread t([&] {
    int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::setns(fd, CLONE_NEWNET), 0);
    ::close(fd);
    fn();
  });
  t.join();
}

class FirewallKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    if (sh("command -v nft").empty()) GTEST_SKIP() << "needs nft to inspect the rules";
    ns_ = "nbt" + std::to_string(::getpid()) + "-fw";
    sh("ip netns del " + ns_ + " 2>/dev/null; ip netns add " + ns_);
    sh("ip netns exec " + ns_ + " nft add table inet fw4 && ip netns exec " + ns_ +
       " nft 'add chain inet fw4 forward { type filter hook forward priority filter; policy drop; }'");
    fw4_ = nft("list ruleset");
    ASSERT_NE(fw4_.find("policy drop"), std::string::npos) << fw4_;
  }
  void TearDown() override {
    if (!ns_.empty()) sh("ip netns del " + ns_);
  }
  std::string nft(const std::string& args) { return sh("ip netns exec " + ns_ + " nft " + args + " 2>&1"); }
  std::string ns_, fw4_;
};

TEST_F(FirewallKernelTest, KernelAcceptsTheTableAndRemoveLeavesOthersAlone) {
  in_netns(ns_, [&] {
    auto fw = install_firewall(sample());
    ASSERT_TRUE(fw.ok()) << fw.error().message;
    std::string listed = nft("list table inet nestbox-c");
    EXPECT_NE(listed.find("oifname \"br-c\" drop"), std::string::npos) << listed;
    EXPECT_NE(listed.find("iifname \"br-lan\" oifname \"br-c\" tcp dport 80 accept"), std::string::npos) << listed;
    EXPECT_NE(listed.find("ip saddr 10.9.0.0/24 oifname \"wan0\" masquerade"), std::string::npos) << listed;
    EXPECT_NE(listed.find("iifname \"br-c\" ct state established,related accept"), std::string::npos) << listed;
    // A second install (a stale table of a killed run) replaces it.
    auto again = install_firewall(sample());
    ASSERT_TRUE(again.ok()) << again.error().message;
    ASSERT_TRUE(again->remove().ok());
    EXPECT_TRUE(fw->remove().ok());     // the table is gone already: not an error
    EXPECT_TRUE(again->remove().ok());  // idempotent
  });
  EXPECT_EQ(nft("list ruleset"), fw4_);
}

// A container with a veth (filtered on the host) and a macvlan on the LAN
// bridge (filtered in its own namespace): each side's table holds only its
// interfaces, and the container-side one is installed in the namespace the
// fd names, not the caller's.
TEST_F(FirewallKernelTest, OnLinkInterfacesAreFilteredInTheContainersNamespace) {
  policy::Policy p = sample();
  policy::Interface mv;
  mv.type = policy::IfType::kMacvlan;
  mv.name = "lan0";
  mv.parent = "br-lan";
  mv.addresses = {"192.168.1.60/24"};
  p.interfaces.push_back(mv);
  p.firewall.allow_out |= policy::kZoneLan;
  p.firewall.allow_in.push_back({"lan0", policy::FwProtocol::kUdp, policy::kZoneLan | policy::kZoneWan, {53}});
  EXPECT_TRUE(has_side(p, FirewallSide::kHost));
  EXPECT_TRUE(has_side(p, FirewallSide::kContainer));
  auto host = build_firewall_batch(p, FirewallSide::kHost);
  ASSERT_TRUE(host.ok()) << host.error().message;
  int fd = ::open(("/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Status s = install_container_firewall(p, fd);  // from this (the host's) namespace
  ::close(fd);
  ASSERT_TRUE(s.ok()) << s.error().message;
  std::string listed = nft("list table inet nestbox-c");
  EXPECT_NE(listed.find("iifname \"lan0\" udp dport 53 accept"), std::string::npos) << listed;
  EXPECT_NE(listed.find("oifname \"lan0\" accept"), std::string::npos) << listed;  // lan in allow_out
  EXPECT_NE(listed.find("iifname \"lan0\" drop"), std::string::npos) << listed;
  EXPECT_EQ(listed.find("eth0"), std::string::npos) << listed;   // the veth is the host's to filter
  EXPECT_EQ(listed.find("br-c"), std::string::npos) << listed;
  EXPECT_EQ(listed.find("masquerade"), std::string::npos) << listed;
  // Only macvlans: nothing for the host to install.
  p.interfaces.erase(p.interfaces.begin());
  p.firewall.allow_in.erase(p.firewall.allow_in.begin());
  p.firewall.masquerade = false;
  EXPECT_FALSE(has_side(p, FirewallSide::kHost));
  in_netns(ns_, [&] {
    auto none = install_firewall(p);  // removes the stale table of a killed run, makes none
    ASSERT_TRUE(none.ok()) << none.error().message;
  });
  EXPECT_EQ(nft("list ruleset"), fw4_);
}

}  // namespace
}  // namespace nestbox::network
