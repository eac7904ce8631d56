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
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "network/setup.h"

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
    auto code = static_cast<int32_t>(be32(v.at(NFTA_VERDICT_CODE)));
    if (code == NFT_JUMP) return std::string("jump ") + mnl_attr_get_str(v.at(NFTA_VERDICT_CHAIN));
    if (code == NFT_RETURN) return "return";
    return code == NF_ACCEPT ? "accept" : code == NF_DROP ? "drop" : "verdict " + std::to_string(code);
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
    if (type == NFT_MSG_NEWCHAIN && !a.count(NFTA_CHAIN_HOOK)) {
      out.chains.push_back(std::string(mnl_attr_get_str(a.at(NFTA_CHAIN_TABLE))) + " " +
                           mnl_attr_get_str(a.at(NFTA_CHAIN_NAME)) + " regular");
    } else if (type == NFT_MSG_NEWCHAIN) {
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
const std::string kEstablishedOnly = " ct 0; & 02000000 ^ 00000000; != 00000000;";
const std::string kRelatedOnly = " ct 0; & 04000000 ^ 00000000; != 00000000;";

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
                                                "nestbox-c forward filter 2 0 1", "nestbox-c source-check filter 0 -300 1",
                                                "nestbox-c from-br-c regular",
                                                "nestbox-c postrouting nat 4 100 1"}));
  std::string c = name16("br-c"), lan = name16("br-lan"), wan = name16("wan0");
  const std::string v6 = "meta 15; == 0a; payload 1+8/16; ";
  auto ll = pinned_link_local(sample(), sample().interfaces[0]);
  ASSERT_TRUE(ll.has_value());
  EXPECT_EQ(hex(ll->addr.data(), 16) + "/" + std::to_string(ll->prefix), "fe80000000000000c112100745b0e8fe/64");
  std::vector<std::string> want = {
      // Anti-spoofing: only the container's own address (not its /24), its
      // one link-local address (the launcher's, not any fe80::/10), and `::`
      // only as duplicate address detection (a solicitation, hop limit 255,
      // to a solicited-node group).
      "from-br-c: meta 15; == 02; payload 1+12/4; & ffffffff ^ 00000000; == 0a090002; return;",
      "from-br-c: " + v6 + "& " + std::string(32, 'f') + " ^ " + std::string(32, '0') +
          "; == fe80000000000000c112100745b0e8fe; return;",
      "from-br-c: " + v6 + "& " + std::string(32, 'f') + " ^ " + std::string(32, '0') + "; == " +
          std::string(32, '0') + "; meta 15; == 0a; payload 1+24/16; & ffffffffffffffffffffffffff000000 ^ " +
          std::string(32, '0') + "; == ff0200000000000000000001ff000000; meta 15; == 0a; meta 16; == 3a; "
          "payload 1+7/1; == ff; payload 2+0/2; == 8700; return;",
      "from-br-c: drop;",
      // At prerouting before conntrack (-300): a forged packet never touches it.
      "source-check: " + kIif + c + " jump from-br-c;",
      // IPv6 neighbour discovery, never "established".
      "input: " + kIif + c + " meta 15; == 0a; meta 16; == 3a; payload 1+7/1; == ff; payload 2+0/2; == 8700; accept;",
      "input: " + kIif + c + " meta 15; == 0a; meta 16; == 3a; payload 1+7/1; == ff; payload 2+0/2; == 8800; accept;",
  };
  // From the container: its connections, and ICMP errors only about a
  // connection one of its addresses is a party of (as first seen, before NAT;
  // the connection's family, then its address: 3.13's keys), any other
  // "related" packet dropped before the zones allow_out opens.
  auto from_container = [&](const std::string& chain) {
    want.push_back(chain + ": " + kIif + c + kEstablishedOnly + " accept;");
    const std::string l3 = " ct " + std::to_string(NFT_CT_L3PROTOCOL) + "; == ";
    for (const std::string& key : {std::to_string(NFT_CT_SRC), std::to_string(NFT_CT_DST)})
      want.push_back(chain + ": " + kIif + c + kRelatedOnly + l3 + "02; ct " + key + "; == 0a090002; accept;");
    for (const std::string& key : {std::to_string(NFT_CT_SRC), std::to_string(NFT_CT_DST)})
      want.push_back(chain + ": " + kIif + c + kRelatedOnly + l3 + "0a; ct " + key +
                     "; == fe80000000000000c112100745b0e8fe; accept;");
    want.push_back(chain + ": " + kIif + c + kRelatedOnly + " drop;");
  };
  from_container("input");
  for (const std::string& rule : std::vector<std::string>{
      "input: " + kIif + c + " drop;",  // no host in allow_out
      "output: " + kOif + c + " meta 15; == 0a; meta 16; == 3a; payload 1+7/1; == ff; payload 2+0/2; == 8700; accept;",
      "output: " + kOif + c + " meta 15; == 0a; meta 16; == 3a; payload 1+7/1; == ff; payload 2+0/2; == 8800; accept;",
      "output: " + kOif + c + kEstablished + " accept;",
      "output: " + kOif + c + " drop;",  // port 80 is from the LAN only
  })
    want.push_back(rule);
  from_container("forward");
  for (const std::string& rule : std::vector<std::string>{
      "forward: " + kOif + c + kEstablished + " accept;",
      "forward: " + kIif + c + " " + kOif + wan + " accept;",
      "forward: " + kIif + c + " drop;",
      "forward: " + kIif + lan + " " + kOif + c + " meta 16; == 06; payload 2+2/2; == 0050; accept;",
      "forward: " + kOif + c + " drop;",
      // Its own address only, not its prefix: other hosts' traffic is not its to NAT.
      "postrouting: meta 15; == 02; payload 1+12/4; & ffffffff ^ 00000000; == 0a090002; " + kOif + wan + " masq;",
  })
    want.push_back(rule);
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
  EXPECT_EQ(p.chains.size(), 5u);  // no NAT chain without masquerade
  std::string c = name16("br-c");
  const size_t k = 5;  // the anti-spoofing chain's 4 rules and its jump come first
  // After 2 neighbour discovery rules, "established", 4 "related" ones (2
  // own addresses, each as the connection's source or destination) and the
  // drop of any other "related".
  EXPECT_EQ(p.rules[k + 8], "input: " + kIif + c + " accept;");
  EXPECT_EQ(p.rules[k + 13], "output: " + kOif + c + " meta 16; == 01; accept;");
  EXPECT_EQ(p.rules[k + 14], "output: " + kOif + c + " meta 16; == 3a; accept;");
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
  std::string wire_routed(const std::string& a, const std::string& w);
  // The router's table for the container of wire_routed (fd09::2 too).
  Firewall install_routed_container_firewall() {
    policy::Policy p = sample();
    p.interfaces[0].addresses.push_back("fd09::2/64");
    Firewall fw;
    in_netns(ns_, [&] {
      auto installed = install_firewall(p);
      ASSERT_TRUE(installed.ok()) << installed.error().message;
      fw = std::move(*installed);
    });
    return fw;
  }
  std::string ns_, fw4_;
};

// A network namespace of one test's own, deleted when the test ends.
struct ScopedNetns {
  explicit ScopedNetns(std::string n) : name(std::move(n)) { sh("ip netns del " + name + " 2>/dev/null; ip netns add " + name); }
  ~ScopedNetns() { sh("ip netns del " + name + " 2>/dev/null"); }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  const std::string name;
};

// The traffic tests send with python3 and drop privileges with setpriv.
bool has_senders() { return !sh("test -x /usr/bin/python3 && command -v setpriv").empty(); }

TEST_F(FirewallKernelTest, KernelAcceptsTheTableAndRemoveLeavesOthersAlone) {
  in_netns(ns_, [&] {
    auto fw = install_firewall(sample());
    ASSERT_TRUE(fw.ok()) << fw.error().message;
    std::string listed = nft("list table inet nestbox-c");
    EXPECT_NE(listed.find("oifname \"br-c\" drop"), std::string::npos) << listed;
    EXPECT_NE(listed.find("iifname \"br-lan\" oifname \"br-c\" tcp dport 80 accept"), std::string::npos) << listed;
    EXPECT_NE(listed.find("ip saddr 10.9.0.2 oifname \"wan0\" masquerade"), std::string::npos) << listed;
    EXPECT_EQ(listed.find("10.9.0.0/24"), std::string::npos) << listed;
    EXPECT_NE(listed.find("iifname \"br-c\" ct state established accept"), std::string::npos) << listed;
    EXPECT_NE(listed.find("iifname \"br-c\" ct state related ct original ip saddr 10.9.0.2 accept"), std::string::npos)
        << listed;
    EXPECT_NE(listed.find("oifname \"br-c\" ct state established,related accept"), std::string::npos) << listed;
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
  // The source check: before conntrack, and a link-local source only when it
  // is the interface's own.
  EXPECT_NE(listed.find("type filter hook output priority raw; policy accept;"), std::string::npos) << listed;
  EXPECT_NE(listed.find("oifname \"lan0\" jump from-lan0"), std::string::npos) << listed;
  EXPECT_NE(listed.find("ip6 saddr fe80::/10 fib saddr . oif type local return"), std::string::npos) << listed;
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

// The launcher asks a network namespace another container would join
// whether a filter inside it holds (a container-side table): fw4's table is
// none, the container-side one is.
TEST_F(FirewallKernelTest, AContainerSideTableIsFoundInItsNamespace) {
  policy::Policy p = sample();
  p.interfaces[0].type = policy::IfType::kMacvlan;
  p.interfaces[0].parent = "br-lan";
  p.firewall.allow_in.clear();
  p.firewall.masquerade = false;
  int fd = ::open(("/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto before = holds_container_firewall(fd);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_FALSE(*before) << nft("list ruleset");
  Status s = install_container_firewall(p, fd);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto after = holds_container_firewall(fd);
  ::close(fd);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_TRUE(*after) << nft("list ruleset");
}

// Sends, from namespace `from`, one UDP datagram to port 5000 of `dst4` or
// `dst6` from each of `sources`, and returns what a receiver in namespace
// `to` got: "<source seen> <source sent>" per line. IPv6 sources are bound
// with IPV6_FREEBIND by an unprivileged process (uid 65534, no capabilities:
// what any container can do); IPv4 ones with IP_TRANSPARENT, as a container
// with CAP_NET_ADMIN or CAP_NET_RAW in its own namespace can. A link-local
// source or destination carries its interface ("fe80::1%eth0"); the lines
// show addresses without it. `then`: a command run in `from` after the
// sends, while the receiver still listens.
std::string udp_sources_received(const std::string& from, const std::string& to, const std::string& dst4,
                                 const std::string& dst6, const std::vector<std::string>& sources,
                                 const std::string& then = "") {
  const std::string log = "/tmp/" + to + "-udp.log";
  sh("rm -f " + log + "; ip netns exec " + to + " timeout 5 /usr/bin/python3 -c '"
     "import socket\ns = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
     "s.bind((\"::\", 5000))\n"
     "while True:\n d, a = s.recvfrom(100); f = open(\"" + log + "\", \"a\"); "
     "f.write(a[0].replace(\"::ffff:\", \"\").split(\"%\")[0] + \" \" + d.decode() + \"\\n\"); f.close()\n"
     "' >/dev/null 2>&1 &");
  sh("sleep 1");
  std::string want, sent;
  for (const std::string& src : sources) {
    bool v6 = src.find(':') != std::string::npos;
    want += "sent " + src + "\n";
    sent += sh("ip netns exec " + from + " " +
               (v6 ? "setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all --bounding-set=-all " : "") +
               "/usr/bin/python3 -c \"import socket\n"
               // A 4-tuple with the interface's index: Python's (host, port)
               // gives the kernel scope id 0, whatever `%eth0` says.
               "def at(a, port):\n h, _, i = a.partition('%')\n"
               " return (h, port, 0, socket.if_nametoindex(i) if i else 0) if ':' in h else (h, port)\n" +
               (v6 ? "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\ns.setsockopt(socket.IPPROTO_IPV6, 78, 1)\n"
                   : "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.setsockopt(socket.IPPROTO_IP, 19, 1)\n") +
               "s.bind(at('" + src + "', 0))\ntry: s.sendto(b'" + src.substr(0, src.find('%')) + "', at('" +
               (v6 ? dst6 : dst4) + "', 5000))\n"
               "except OSError: pass  # a drop in OUTPUT refuses the send\nprint('sent " + src + "')\n\" 2>&1");
  }
  EXPECT_EQ(sent, want);
  if (!then.empty()) {
    EXPECT_EQ(sh("ip netns exec " + from + " " + then + " 2>&1"), "");
  }
  sh("sleep 1");
  return sh("sort " + log + " 2>/dev/null; rm -f " + log);
}

// R (ns_) routes between a container A (eth0, 10.9.0.2 and fd09::2, in R's
// bridge br-c behind a veth) and a WAN peer W (10.9.1.9 and fd09:1::9, behind
// R's wan0); fw4 stands aside (accepts what it forwards), so only the
// container's table judges. Returns the commands' complaints: "" when all went.
std::string FirewallKernelTest::wire_routed(const std::string& a, const std::string& w) {
  auto r = [&](const std::string& cmd) { return sh("ip netns exec " + ns_ + " " + cmd + " 2>&1"); };
  std::string setup = nft("add rule inet fw4 forward accept");
  // One after the other (the operands of + have no order).
  for (const std::string& c : std::vector<std::string>{"ip link add br-c type bridge", "ip addr add 10.9.0.1/24 dev br-c", "ip addr add fd09::1/64 dev br-c nodad",
        "ip link set br-c up", "ip link add nbv-c type veth peer name eth0 netns " + a, "ip link set nbv-c master br-c up",
        "ip link add wan0 type veth peer name wan-w netns " + w, "ip addr add 10.9.1.1/24 dev wan0",
        "ip addr add fd09:1::1/64 dev wan0 nodad", "ip link set wan0 up", "sysctl -q -w net.ipv4.ip_forward=1",
        "sysctl -q -w net.ipv6.conf.all.forwarding=1"})
    setup += r(c);
  for (const std::string& c : std::vector<std::string>{"ip -n " + a + " addr add 10.9.0.2/24 dev eth0", "ip -n " + a + " addr add fd09::2/64 dev eth0 nodad",
                               "ip -n " + a + " link set eth0 up", "ip -n " + a + " route add default via 10.9.0.1",
                               "ip -n " + a + " -6 route add default via fd09::1", "ip -n " + w + " addr add 10.9.1.9/24 dev wan-w",
                               "ip -n " + w + " addr add fd09:1::9/64 dev wan-w nodad", "ip -n " + w + " link set wan-w up"})
    setup += sh(c + " 2>&1");
  return setup;
}

// Real traffic: a container (namespace A, eth0 in R's br-c) whose firewall
// lets it out to the WAN (W, behind R's wan0) only, masqueraded. From inside
// A, UDP with its own address reaches W (as R's WAN address); UDP with a
// source it does not own (IPv6: IPV6_FREEBIND, no capability needed; IPv4:
// IP_TRANSPARENT, as with CAP_NET_ADMIN in its own namespace) must not leave
// R at all: it was forwarded un-NATed, and a source of another host could
// match that host's conntrack entry as "established".
TEST_F(FirewallKernelTest, PacketsWithASourceTheContainerDoesNotOwnAreDropped) {
  if (!has_senders()) GTEST_SKIP() << "needs /usr/bin/python3 and setpriv to send and receive";
  ScopedNetns a_ns(ns_ + "a"), w_ns(ns_ + "w");
  const std::string &a = a_ns.name, &w = w_ns.name;
  ASSERT_EQ(wire_routed(a, w), "");
  Firewall fw = install_routed_container_firewall();
  // A sends one datagram from its own address and one from each source it
  // does not own: a LAN host's, another of its own subnet, a WAN address.
  std::string got = udp_sources_received(a, w, "10.9.1.9", "fd09:1::9",
                                         {"10.9.0.2", "192.168.1.5", "10.9.0.77", "10.9.1.50", "fd09::2", "fd09::77",
                                          "fd00:5::5", "fd09:1::50"});
  // Its own addresses arrive, masqueraded; nothing else arrives at all.
  EXPECT_EQ(got, "10.9.1.1 10.9.0.2\nfd09:1::1 fd09::2\n") << nft("list table inet nestbox-c");
  // Neighbour solicitations pass only as RFC 4861 has them (hop limit 255):
  // one sent with hop limit 64 (a routed "solicitation" carrying data to a
  // raw ICMPv6 listener on the router) is dropped.
  const std::string log = "/tmp/" + ns_ + "-nd.log";
  sh("rm -f " + log + "; ip netns exec " + ns_ + " timeout 4 /usr/bin/python3 -c '"
     "import socket\ns = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)\n"
     "while True:\n d = s.recv(300)\n i = d.find(b\"NBXND\")\n"
     " if d[0] == 135 and i > 0: f = open(\"" + log + "\", \"a\"); f.write(d[i:i + 8].decode() + \"\\n\"); f.close()\n"
     "' >/dev/null 2>&1 &");
  sh("sleep 1");
  EXPECT_EQ(sh("ip netns exec " + a + " /usr/bin/python3 -c \"import socket\n"
               "for hops in (64, 255):\n"
               " s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)\n"
               " s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)\n"
               " s.sendto(bytes([135, 0, 0, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, 'fd09::1') + "
               "b'NBXND%03d' % hops, ('fd09::1', 0))\n\" 2>&1"),
            "");
  sh("sleep 3");
  EXPECT_EQ(sh("cat " + log + " 2>/dev/null; rm -f " + log), "NBXND255\n") << nft("list table inet nestbox-c");
  in_netns(ns_, [&] { EXPECT_TRUE(fw.remove().ok()); });
}

// A forged packet is dropped before conntrack sees it. R has a UDP flow of
// its own to the WAN that nobody answered yet ([UNREPLIED] in its conntrack
// table); A sends that flow's "reply" with the WAN peer's source (IPv6:
// IPV6_FREEBIND, no capability; IPv4: IP_TRANSPARENT, CAP_NET_ADMIN in its
// own namespace). Dropped only at the filter hooks, it had already marked the
// entry answered (and so "established" for every later packet of the flow:
// a forged reply opens the way for the real peer's packets); dropped before
// conntrack, the entry stays as it was.
TEST_F(FirewallKernelTest, ForgedPacketsDoNotTouchConntrack) {
  if (!has_senders()) GTEST_SKIP() << "needs /usr/bin/python3 and setpriv to send";
  if (sh("ip netns exec " + ns_ + " test -r /proc/net/nf_conntrack && echo y") != "y\n")
    GTEST_SKIP() << "needs /proc/net/nf_conntrack (CONFIG_NF_CONNTRACK_PROCFS)";
  ScopedNetns a_ns(ns_ + "a"), w_ns(ns_ + "w");
  const std::string &a = a_ns.name, &w = w_ns.name;
  ASSERT_EQ(wire_routed(a, w), "");
  Firewall fw = install_routed_container_firewall();
  // R's own flows: from its WAN addresses, port 6000, to a WAN address that
  // never answers (port 7000).
  for (const std::string dst : {"10.9.1.99", "fd09:1::99"}) {
    bool v6 = dst.find(':') != std::string::npos;
    ASSERT_EQ(sh("ip netns exec " + ns_ + " /usr/bin/python3 -c \"import socket\n"
                 "s = socket.socket(socket.AF_INET" + (v6 ? "6" : "") + ", socket.SOCK_DGRAM)\n"
                 "s.bind(('" + (v6 ? "fd09:1::1" : "10.9.1.1") + "', 6000))\n"
                 "s.sendto(b'x', ('" + dst + "', 7000))\n\" 2>&1"),
              "");
  }
  auto flows = [&] { return sh("ip netns exec " + ns_ + " grep -c 'sport=6000 dport=7000 \\[UNREPLIED\\]' /proc/net/nf_conntrack"); };
  ASSERT_EQ(flows(), "2\n") << sh("ip netns exec " + ns_ + " cat /proc/net/nf_conntrack");
  // Their "replies", forged in A.
  for (const std::string src : {"10.9.1.99", "fd09:1::99"}) {
    bool v6 = src.find(':') != std::string::npos;
    EXPECT_EQ(sh("ip netns exec " + a + " " +
                 (v6 ? "setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all --bounding-set=-all " : "") +
                 "/usr/bin/python3 -c \"import socket\n" +
                 (v6 ? "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\ns.setsockopt(socket.IPPROTO_IPV6, 78, 1)\n"
                     : "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.setsockopt(socket.IPPROTO_IP, 19, 1)\n") +
                 "s.bind(('" + src + "', 7000))\ntry: s.sendto(b'forged', ('" + (v6 ? "fd09:1::1" : "10.9.1.1") +
                 "', 6000))\nexcept OSError as e: print(e)\n\" 2>&1"),
              "");
  }
  sh("sleep 1");
  EXPECT_EQ(flows(), "2\n") << sh("ip netns exec " + ns_ + " cat /proc/net/nf_conntrack") << nft("list table inet nestbox-c");
  in_netns(ns_, [&] { EXPECT_TRUE(fw.remove().ok()); });
}

// ICMP errors from the container pass only about its own connections.
// Conntrack calls any ICMP error "related" to the connection its quoted packet
// names, whoever sends it: with a raw socket (CAP_NET_RAW in its own
// namespace) A forged "port unreachable", from its own address, about R's
// own UDP flow to the WAN, and R's socket took it (ECONNREFUSED). A's own
// kernel's error about a datagram R sent to it (allowed from the host, no
// listener) still reaches R.
TEST_F(FirewallKernelTest, IcmpErrorsFromTheContainerOnlyAboutItsOwnConnections) {
  if (!has_senders()) GTEST_SKIP() << "needs /usr/bin/python3 to send and receive";
  ScopedNetns a_ns(ns_ + "a"), w_ns(ns_ + "w");
  const std::string &a = a_ns.name, &w = w_ns.name;
  ASSERT_EQ(wire_routed(a, w), "");
  policy::Policy p = sample();
  p.firewall.allow_in.push_back({"eth0", policy::FwProtocol::kUdp, policy::kZoneHost, {5000}});
  Firewall fw;
  in_netns(ns_, [&] {
    auto installed = install_firewall(p);
    ASSERT_TRUE(installed.ok()) << installed.error().message;
    fw = std::move(*installed);
  });
  // R: a connected UDP socket sends once and says what came back.
  auto r_flow = [&](const std::string& bind, const std::string& dst, int port, const std::string& then) {
    const std::string out = "/tmp/" + ns_ + "-icmp.out";
    sh("rm -f " + out + "; ip netns exec " + ns_ + " /usr/bin/python3 -c \"import socket\n"
       "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('" + bind + "', 40000))\n"
       "s.connect(('" + dst + "', " + std::to_string(port) + "))\ns.send(b'q')\ns.settimeout(1.5)\n"
       "try: s.recv(100); r = 'data'\nexcept ConnectionRefusedError: r = 'refused'\nexcept socket.timeout: r = 'timeout'\n"
       "open('" + out + "', 'w').write(r)\n\" >/dev/null 2>&1 &");
    sh("sleep 0.5");
    if (!then.empty()) {
      EXPECT_EQ(sh("ip netns exec " + a + " " + then + " 2>&1"), "");
    }
    sh("sleep 1.5");
    return sh("cat " + out + " 2>/dev/null; rm -f " + out);
  };
  // "Port unreachable" about R's flow 10.9.1.1:40000 -> 10.9.1.99:5353 (an
  // address nobody has: no error of its own comes back within the wait).
  const std::string forge = "/usr/bin/python3 -c \"import socket, struct\n"
      "def csum(b):\n s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); return ~(s + (s >> 16)) & 0xffff\n"
      "ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28, 1, 0, 64, 17, 0, socket.inet_aton('10.9.1.1'), socket.inet_aton('10.9.1.99'))\n"
      "ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]\n"
      "m = struct.pack('!BBHI', 3, 3, 0, 0) + ip + struct.pack('!HHHH', 40000, 5353, 8, 0)\n"
      "m = m[:2] + struct.pack('!H', csum(m)) + m[4:]\n"
      "socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).sendto(m, ('10.9.1.1', 0))\n\"";
  EXPECT_EQ(r_flow("10.9.1.1", "10.9.1.99", 5353, forge), "timeout") << nft("list table inet nestbox-c");
  EXPECT_EQ(r_flow("10.9.0.1", "10.9.0.2", 5000, ""), "refused") << nft("list table inet nestbox-c");
  // The same with every zone open to the container (allow_out accepts by
  // interface): the forged error still does not pass.
  in_netns(ns_, [&] {
    EXPECT_TRUE(fw.remove().ok());
    p.firewall.allow_out = policy::kZoneHost | policy::kZoneLan | policy::kZoneWan;
    auto installed = install_firewall(p);
    ASSERT_TRUE(installed.ok()) << installed.error().message;
    fw = std::move(*installed);
  });
  EXPECT_EQ(r_flow("10.9.1.1", "10.9.1.99", 5353, forge), "timeout") << nft("list table inet nestbox-c");
  in_netns(ns_, [&] { EXPECT_TRUE(fw.remove().ok()); });
}

// Packets from the unspecified source `::`, with a raw socket (as a container
// with CAP_NET_RAW in its own namespace can), to the router R (fe80::1,
// fd09::1) on eth0: a UDP datagram to port 5000 (its text "::"), and two
// neighbour solicitations for fd09::1 carrying a marker, one as duplicate
// address detection has it (to the solicited-node group ff02::1:ff00:1) and
// one to fd09::1 itself.
const char kUnspecifiedSender[] = R"(import socket, struct
def csum(src, dst, nh, body):
    d = src + dst + struct.pack('!I', len(body)) + b'\0\0\0' + bytes([nh]) + body
    d += b'\0' * (len(d) % 2)
    s = sum(struct.unpack('!%dH' % (len(d) // 2), d))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def send(dst, nh, hl, body):
    src, d = bytes(16), socket.inet_pton(socket.AF_INET6, dst)
    c = struct.pack('!H', csum(src, d, nh, body))
    body = body[:6] + c + body[8:] if nh == 17 else body[:2] + c + body[4:]
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(struct.pack('!IHBB', 0x60000000, len(body), nh, hl) + src + d + body, (dst, 0, 0, socket.if_nametoindex('eth0')))
send('fe80::1', 17, 64, struct.pack('!HHHH', 4000, 5000, 10, 0) + b'::')
for dst, marker in (('ff02::1:ff00:1', b'NBXNDDAD'), ('fd09::1', b'NBXNDUNI')):
    send(dst, 58, 255, bytes([135, 0, 0, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, 'fd09::1') + marker)
)";

// IPv6 link-local sources on the host side. The container A's veth is set up
// by setup_network as the launcher does: its only link-local address is the
// one the host-side table knows (pinned_link_local), and only that one passes.
// Any fe80::/10 source passed before: with IPV6_FREEBIND (no capability) A
// sent as the router's own link-local address (fe80::1 on br-c) or as any
// neighbour's. `::` passes only as duplicate address detection.
TEST_F(FirewallKernelTest, OnlyTheContainersOwnLinkLocalSourcePassesOnTheHost) {
  if (!has_senders()) GTEST_SKIP() << "needs /usr/bin/python3 and setpriv to send and receive";
  ScopedNetns a_ns(ns_ + "a");
  const std::string& a = a_ns.name;
  struct Cleanup {
    std::string script;
    ~Cleanup() { sh("rm -f " + script); }
  } cleanup{"/tmp/" + ns_ + "-unspecified.py"};
  std::string setup;
  for (const std::string c : {"link add br-c type bridge", "addr add 10.9.0.1/24 dev br-c", "addr add fd09::1/64 dev br-c nodad",
                               "addr add fe80::1/64 dev br-c nodad", "link set br-c up"})
    setup += sh("ip -n " + ns_ + " " + c + " 2>&1");
  ASSERT_EQ(setup, "");
  policy::Policy p = sample();
  p.interfaces[0].host_name = "nbv-c";
  p.interfaces[0].addresses.push_back("fd09::2/64");
  p.firewall.allow_out = policy::kZoneHost | policy::kZoneWan;  // A may talk to R
  int afd = ::open(("/run/netns/" + a).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(afd, 0);
  std::optional<NetworkSetup> net;
  Firewall fw;
  in_netns(ns_, [&] {
    auto s = setup_network(p, afd);
    ASSERT_TRUE(s.ok()) << s.error().message;
    net.emplace(std::move(*s));
    auto installed = install_firewall(p);
    ASSERT_TRUE(installed.ok()) << installed.error().message;
    fw = std::move(*installed);
  });
  ::close(afd);
  ASSERT_TRUE(net.has_value());
  auto pinned = pinned_link_local(p, p.interfaces[0]);
  ASSERT_TRUE(pinned.has_value());
  char text[INET6_ADDRSTRLEN];
  ASSERT_NE(::inet_ntop(AF_INET6, pinned->addr.data(), text, sizeof text), nullptr);
  const std::string ll = text;
  // A's only link-local address is that one: the kernel made none.
  EXPECT_EQ(sh("ip -n " + a + " -6 -o addr show dev eth0 scope link | awk '{print $4}'"), ll + "/64\n");
  std::ofstream(cleanup.script) << kUnspecifiedSender;
  const std::string log = "/tmp/" + ns_ + "-nd.log";
  sh("rm -f " + log + "; ip netns exec " + ns_ + " timeout 5 /usr/bin/python3 -c '"
     "import socket\ns = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)\n"
     "while True:\n d = s.recv(300)\n i = d.find(b\"NBXND\")\n"
     " if d[0] == 135 and i > 0: f = open(\"" + log + "\", \"a\"); f.write(d[i:i + 8].decode() + \"\\n\"); f.close()\n"
     "' >/dev/null 2>&1 &");
  // Its own, the router's (fe80::1), a neighbour's; then `::` (raw socket).
  std::string got = udp_sources_received(a, ns_, "10.9.0.1", "fe80::1%eth0",
                                         {ll + "%eth0", "fe80::1%eth0", "fe80::5%eth0", "fe80::2%eth0"},
                                         "/usr/bin/python3 " + cleanup.script);
  EXPECT_EQ(got, ll + " " + ll + "\n") << nft("list table inet nestbox-c");
  sh("sleep 2");
  EXPECT_EQ(sh("cat " + log + " 2>/dev/null; rm -f " + log), "NBXNDDAD\n") << nft("list table inet nestbox-c");
  in_netns(ns_, [&] {
    EXPECT_TRUE(fw.remove().ok());
    EXPECT_TRUE(net->teardown().ok());
  });
}

// The same for an interface filtered in the container's own namespace (a
// macvlan on the LAN: its frames never cross the host's hooks). The rules
// match its name, so a veth named lan0 towards a LAN peer L stands in for it.
TEST_F(FirewallKernelTest, OnLinkInterfacesSendOnlyFromTheirOwnAddresses) {
  if (!has_senders()) GTEST_SKIP() << "needs /usr/bin/python3 and setpriv to send and receive";
  ScopedNetns l_ns(ns_ + "l");
  const std::string& l = l_ns.name;
  // ns_ is the container's namespace here.
  std::string setup = sh("ip netns exec " + ns_ + " ip link add lan0 type veth peer name lan-l netns " + l + " 2>&1");
  for (const std::string& c : std::vector<std::string>{"ip -n " + ns_ + " addr add 192.168.1.60/24 dev lan0", "ip -n " + ns_ + " addr add fd01::60/64 dev lan0 nodad",
                               "ip -n " + ns_ + " link set lan0 up", "ip -n " + l + " addr add 192.168.1.9/24 dev lan-l",
                               "ip -n " + l + " addr add fd01::9/64 dev lan-l nodad", "ip -n " + l + " addr add fe80::9/64 dev lan-l nodad",
                               "ip -n " + l + " link set lan-l up"})
    setup += sh(c + " 2>&1");
  ASSERT_EQ(setup, "");
  // lan0's own link-local address, the kernel's, once its duplicate address
  // detection is done (a tentative address is no source yet).
  std::string own;
  for (int i = 0; i < 50 && own.empty(); ++i) {
    own = sh("ip -n " + ns_ + " -6 -o addr show dev lan0 scope link -tentative | awk '{print $4}' | cut -d/ -f1 | tr -d '\\n'");
    if (own.empty()) sh("sleep 0.1");
  }
  ASSERT_FALSE(own.empty()) << sh("ip -n " + ns_ + " -6 addr show dev lan0");
  policy::Policy p = sample();
  policy::Interface mv;
  mv.type = policy::IfType::kMacvlan;
  mv.name = "lan0";
  mv.parent = "br-lan";
  mv.addresses = {"192.168.1.60/24", "fd01::60/64"};
  p.interfaces = {mv};
  p.firewall.allow_out = policy::kZoneLan;
  p.firewall.allow_in = {};
  p.firewall.masquerade = false;
  int fd = ::open(("/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Status s = install_container_firewall(p, fd);
  ::close(fd);
  ASSERT_TRUE(s.ok()) << s.error().message;
  // The router's LAN address, another LAN host's, another of its subnet;
  // IPv6 ones from a process without any capability: link-local ones too,
  // its own (the kernel's, whatever it is: `fib saddr . oif type local`),
  // L's and others on the segment (any fe80::/10 source passed before).
  std::string got = udp_sources_received(ns_, l, "192.168.1.9", "fd01::9",
                                         {"192.168.1.60", "192.168.1.1", "192.168.1.5", "10.0.0.1", "fd01::60", "fd01::1",
                                          "fd01::5", own + "%lan0", "fe80::9%lan0", "fe80::1%lan0", "fe80::5%lan0"});
  EXPECT_EQ(got, "192.168.1.60 192.168.1.60\nfd01::60 fd01::60\n" + own + " " + own + "\n") << nft("list table inet nestbox-c");
}

}  // namespace
}  // namespace nestbox::network
