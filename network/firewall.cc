#include "network/firewall.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <set>

#include "network/address.h"
#include "network/netlink.h"
#include "network/setup.h"

namespace nestbox::network {
namespace {

// Plenty for the policy's limits in practice; a larger rule set is refused
// (one netlink message batch must fit the socket's buffer).
constexpr size_t kMaxBatch = 128 * 1024;
constexpr uint32_t kReg = NFT_REG_1;  // the one data register the rules use

// Filter chains at the standard filter priority, NAT at srcnat: base chains of
// every table see each packet, so these add restrictions to firewall4's rules
// (a drop here is final; an accept here does not override fw4's drop).
constexpr int kFilterPriority = 0;
constexpr int kSrcNatPriority = 100;
// The source check ("source-check" chain) at the raw priority: after the
// kernel reassembles fragments (-400), before conntrack (-200) looks the
// packet up. At the filter priority a forged packet had already been matched
// against conntrack's entries before it was dropped, and that match is not
// undone: a forged "reply" to another host's UDP flow marked it as answered
// (established, for every later packet of it), a forged in-window RST closed
// a TCP flow's entry, any match refreshed an entry's timeout.
constexpr int kSourceCheckPriority = -300;

class BatchBuilder {
 public:
  BatchBuilder() : storage_(kMaxBatch / sizeof(uint64_t) * 2, 0) {
    batch_ = mnl_nlmsg_batch_start(storage_.data(), kMaxBatch);
    control(NFNL_MSG_BATCH_BEGIN);
  }
  ~BatchBuilder() { mnl_nlmsg_batch_stop(batch_); }

  // One nf_tables message; `body` adds its attributes.
  void message(uint16_t type, uint16_t flags, const std::function<void(nlmsghdr*)>& body) {
    if (full_) return;
    nlmsghdr* nlh = begin(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | type),
                          static_cast<uint16_t>(flags | NLM_F_ACK), NFPROTO_INET, 0);
    acked_.push_back(nlh->nlmsg_seq);
    body(nlh);
    next();
  }

  Result<Batch> finish() {
    control(NFNL_MSG_BATCH_END);
    if (full_) return failure("the firewall's rules exceed one netlink batch of " + std::to_string(kMaxBatch) + " bytes");
    Batch b;
    b.length = mnl_nlmsg_batch_size(batch_);
    b.storage.assign(storage_.begin(), storage_.begin() + static_cast<std::ptrdiff_t>((b.length + 7) / 8));
    b.acked = acked_;
    return b;
  }

 private:
  nlmsghdr* begin(uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(batch_));
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    nlh->nlmsg_seq = ++seq_;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = family;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = htons(res_id);
    return nlh;
  }
  void control(uint16_t type) {
    if (full_) return;
    begin(type, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
    next();
  }
  // mnl_nlmsg_batch_next() says false when the message just written crossed
  // the batch size: the builder's storage is twice that, so it was written
  // into slack; the batch is then refused.
  void next() {
    if (!mnl_nlmsg_batch_next(batch_)) full_ = true;
  }

  std::vector<uint64_t> storage_;
  mnl_nlmsg_batch* batch_ = nullptr;
  std::vector<uint32_t> acked_;
  uint32_t seq_ = 0;
  bool full_ = false;
};

// --- expressions ---------------------------------------------------------------

void put_be32(nlmsghdr* nlh, uint16_t type, uint32_t v) { mnl_attr_put_u32(nlh, type, htonl(v)); }

void put_data(nlmsghdr* nlh, uint16_t type, const void* data, size_t len) {
  nlattr* n = mnl_attr_nest_start(nlh, type);
  mnl_attr_put(nlh, NFTA_DATA_VALUE, len, data);
  mnl_attr_nest_end(nlh, n);
}

void expr(nlmsghdr* nlh, const char* name, const std::function<void()>& data) {
  nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
  mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
  nlattr* d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
  data();
  mnl_attr_nest_end(nlh, d);
  mnl_attr_nest_end(nlh, elem);
}

void meta(nlmsghdr* nlh, uint32_t key) {
  expr(nlh, "meta", [&] {
    put_be32(nlh, NFTA_META_KEY, key);
    put_be32(nlh, NFTA_META_DREG, kReg);
  });
}

void cmp(nlmsghdr* nlh, uint32_t op, const void* data, size_t len) {
  expr(nlh, "cmp", [&] {
    put_be32(nlh, NFTA_CMP_SREG, kReg);
    put_be32(nlh, NFTA_CMP_OP, op);
    put_data(nlh, NFTA_CMP_DATA, data, len);
  });
}

// iifname/oifname == name (the kernel compares the full IFNAMSIZ buffer).
void ifname(nlmsghdr* nlh, uint32_t key, const std::string& name) {
  char buf[16] = {};
  std::memcpy(buf, name.data(), name.size() < 15 ? name.size() : 15);
  meta(nlh, key);
  cmp(nlh, NFT_CMP_EQ, buf, sizeof buf);
}

void payload(nlmsghdr* nlh, uint32_t base, uint32_t offset, uint32_t len) {
  expr(nlh, "payload", [&] {
    put_be32(nlh, NFTA_PAYLOAD_DREG, kReg);
    put_be32(nlh, NFTA_PAYLOAD_BASE, base);
    put_be32(nlh, NFTA_PAYLOAD_OFFSET, offset);
    put_be32(nlh, NFTA_PAYLOAD_LEN, len);
  });
}

void bitwise(nlmsghdr* nlh, const void* mask, const void* xor_value, uint32_t len) {
  expr(nlh, "bitwise", [&] {
    put_be32(nlh, NFTA_BITWISE_SREG, kReg);
    put_be32(nlh, NFTA_BITWISE_DREG, kReg);
    put_be32(nlh, NFTA_BITWISE_LEN, len);
    put_data(nlh, NFTA_BITWISE_MASK, mask, len);
    put_data(nlh, NFTA_BITWISE_XOR, xor_value, len);
  });
}

// ct state <states>
void ct_state(nlmsghdr* nlh, uint32_t states) {
  expr(nlh, "ct", [&] {
    put_be32(nlh, NFTA_CT_KEY, NFT_CT_STATE);
    put_be32(nlh, NFTA_CT_DREG, kReg);
  });
  uint32_t zero = 0;
  bitwise(nlh, &states, &zero, 4);
  cmp(nlh, NFT_CMP_NEQ, &zero, 4);
}
constexpr uint32_t kEstablished = NF_CT_STATE_BIT(IP_CT_ESTABLISHED);
constexpr uint32_t kRelated = NF_CT_STATE_BIT(IP_CT_RELATED);
void ct_established(nlmsghdr* nlh) { ct_state(nlh, kEstablished | kRelated); }

// ct original saddr|daddr == addr: an address of the connection the packet
// belongs (or, an ICMP error, relates) to, as its first packet had it
// (before NAT). The keys of 3.13 (NFT_CT_SRC/DST) are used, not 4.17's
// NFT_CT_SRC_IP and kin, so the firewall's kernel floor stays where
// kernel-check puts it: in an inet table they load the tuple's 16-byte
// address field, IPv4 in its first 4 bytes, so the connection's family is
// compared first.
void ct_original_addr(nlmsghdr* nlh, const Cidr& addr, bool source) {
  expr(nlh, "ct", [&] {
    put_be32(nlh, NFTA_CT_KEY, NFT_CT_L3PROTOCOL);
    mnl_attr_put_u8(nlh, NFTA_CT_DIRECTION, IP_CT_DIR_ORIGINAL);
    put_be32(nlh, NFTA_CT_DREG, kReg);
  });
  uint8_t family = addr.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
  cmp(nlh, NFT_CMP_EQ, &family, 1);
  expr(nlh, "ct", [&] {
    put_be32(nlh, NFTA_CT_KEY, source ? NFT_CT_SRC : NFT_CT_DST);
    mnl_attr_put_u8(nlh, NFTA_CT_DIRECTION, IP_CT_DIR_ORIGINAL);
    put_be32(nlh, NFTA_CT_DREG, kReg);
  });
  // The address's own length: the register's first 4 bytes for IPv4 (nft
  // lists a 16-byte compare after an IPv4 family match as garbage).
  cmp(nlh, NFT_CMP_EQ, addr.addr.data(), addr.addr_len());
}

// `chain`: the target of NFT_JUMP (a regular chain of the same table).
void verdict(nlmsghdr* nlh, uint32_t code, const char* chain = nullptr) {
  expr(nlh, "immediate", [&] {
    put_be32(nlh, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    nlattr* data = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
    nlattr* v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
    put_be32(nlh, NFTA_VERDICT_CODE, code);
    if (chain) mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
    mnl_attr_nest_end(nlh, v);
    mnl_attr_nest_end(nlh, data);
  });
}

// meta l4proto <p> [th dport <port>]
void l4(nlmsghdr* nlh, uint8_t proto) {
  meta(nlh, NFT_META_L4PROTO);
  cmp(nlh, NFT_CMP_EQ, &proto, 1);
}

void dport(nlmsghdr* nlh, uint16_t port) {
  payload(nlh, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
  uint16_t be = htons(port);
  cmp(nlh, NFT_CMP_EQ, &be, 2);
}

// ip saddr / ip6 saddr (daddr: `source` false) within `net`
void addr_in(nlmsghdr* nlh, const Cidr& net, bool source = true) {
  uint8_t nfproto = net.family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
  meta(nlh, NFT_META_NFPROTO);
  cmp(nlh, NFT_CMP_EQ, &nfproto, 1);
  uint32_t len = static_cast<uint32_t>(net.addr_len());
  uint32_t offset = net.family == AF_INET ? (source ? 12 : 16) : (source ? 8 : 24);
  payload(nlh, NFT_PAYLOAD_NETWORK_HEADER, offset, len);
  uint8_t mask[16] = {}, value[16] = {}, zero[16] = {};
  for (unsigned bit = 0; bit < net.prefix; ++bit) mask[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
  for (size_t i = 0; i < len; ++i) value[i] = net.addr[i] & mask[i];
  bitwise(nlh, mask, zero, len);
  cmp(nlh, NFT_CMP_EQ, value, len);
}
void saddr_in(nlmsghdr* nlh, const Cidr& net) { addr_in(nlh, net, true); }

// fib saddr . oif type local: the source is an address of the interface the
// packet leaves by (the output hook, in the namespace that owns it).
void source_local_on_oif(nlmsghdr* nlh) {
  expr(nlh, "fib", [&] {
    put_be32(nlh, NFTA_FIB_DREG, kReg);
    put_be32(nlh, NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
    put_be32(nlh, NFTA_FIB_FLAGS, NFTA_FIB_F_SADDR | NFTA_FIB_F_OIF);
  });
  uint32_t local = RTN_LOCAL;  // the kernel's address type, host byte order
  cmp(nlh, NFT_CMP_EQ, &local, 4);
}

// --- the rule set ----------------------------------------------------------------

struct Rules {
  BatchBuilder& b;
  const std::string& table;

  void chain(const char* name, const char* type, uint32_t hook, int priority) {
    b.message(NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, [&](nlmsghdr* nlh) {
      mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table.c_str());
      mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, name);
      nlattr* h = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);
      put_be32(nlh, NFTA_HOOK_HOOKNUM, hook);
      put_be32(nlh, NFTA_HOOK_PRIORITY, static_cast<uint32_t>(priority));
      mnl_attr_nest_end(nlh, h);
      put_be32(nlh, NFTA_CHAIN_POLICY, NF_ACCEPT);  // other traffic is not ours to judge
      mnl_attr_put_strz(nlh, NFTA_CHAIN_TYPE, type);
    });
  }
  // A regular chain (no hook): reached only by a jump from a base chain.
  void regular_chain(const std::string& name) {
    b.message(NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, [&](nlmsghdr* nlh) {
      mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table.c_str());
      mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, name.c_str());
    });
  }
  void rule(const std::string& chain, const std::function<void(nlmsghdr*)>& exprs) { rule(chain.c_str(), exprs); }
  void rule(const char* chain, const std::function<void(nlmsghdr*)>& exprs) {
    b.message(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, [&](nlmsghdr* nlh) {
      mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table.c_str());
      mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
      nlattr* list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
      exprs(nlh);
      mnl_attr_nest_end(nlh, list);
    });
  }
};

// IPv6 neighbour discovery (solicitation 135, advertisement 136) on a
// filtered device: conntrack never calls it established, so without these
// the container's IPv6 neighbours (the router included) never resolve.
// Router advertisements and redirects stay dropped. Only what RFC 4861 lets
// a receiver take: IPv6, hop limit 255 (sent on the link, never routed),
// code 0; not any packet whose first transport byte is 135 (an IPv4
// protocol-58 packet, a routed "solicitation" carrying data to a listener).
// The transport header is read only from a packet's first fragment (a later
// one has none: the payload load fails and the rule does not match).
void neighbour_discovery(nlmsghdr* nlh, uint8_t type) {
  const uint8_t ipv6 = NFPROTO_IPV6, hop_limit = 255, type_and_code[2] = {type, 0};
  meta(nlh, NFT_META_NFPROTO);
  cmp(nlh, NFT_CMP_EQ, &ipv6, 1);
  l4(nlh, IPPROTO_ICMPV6);
  payload(nlh, NFT_PAYLOAD_NETWORK_HEADER, 7, 1);  // ip6 hoplimit
  cmp(nlh, NFT_CMP_EQ, &hop_limit, 1);
  payload(nlh, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2);
  cmp(nlh, NFT_CMP_EQ, type_and_code, 2);
}
void for_each_neighbour_discovery(const std::function<void(const std::function<void(nlmsghdr*)>&)>& fn) {
  for (uint8_t type : {uint8_t{135}, uint8_t{136}}) fn([type](nlmsghdr* nlh) { neighbour_discovery(nlh, type); });
}

void match_allow(nlmsghdr* nlh, const policy::FirewallAllow& a, uint16_t port) {
  switch (a.protocol) {
    case policy::FwProtocol::kTcp: l4(nlh, IPPROTO_TCP); dport(nlh, port); break;
    case policy::FwProtocol::kUdp: l4(nlh, IPPROTO_UDP); dport(nlh, port); break;
    case policy::FwProtocol::kIcmp: break;  // two rules, see for_each_match
  }
}

// Calls fn(exprs) once per (protocol, port) of an allow_in entry: icmp is
// ICMP and ICMPv6 (two matches), tcp/udp one per port.
void for_each_match(const policy::FirewallAllow& a, const std::function<void(const std::function<void(nlmsghdr*)>&)>& fn) {
  if (a.protocol == policy::FwProtocol::kIcmp) {
    fn([](nlmsghdr* nlh) { l4(nlh, IPPROTO_ICMP); });
    fn([](nlmsghdr* nlh) { l4(nlh, IPPROTO_ICMPV6); });
    return;
  }
  for (uint16_t port : a.ports) fn([&a, port](nlmsghdr* nlh) { match_allow(nlh, a, port); });
}

// The host-side device a container interface's routed traffic crosses: its
// bridge, or the veth's host end when it has none.
std::string host_side(const policy::Policy& p, const policy::Interface& itf) {
  if (!itf.bridge.empty()) return itf.bridge;
  if (!itf.host_name.empty()) return itf.host_name;
  return default_veth_host_name(p.name, itf.name);
}

// An interface bridged into a LAN/WAN device is a member of that segment (its
// traffic is bridged, not routed): matching its bridge would judge the whole
// zone's traffic. It is left to the zone (docs/network.md, "Firewall").
bool in_zone(const policy::Policy& p, const policy::Interface& itf) {
  std::string c = host_side(p, itf);
  for (const auto* zone : {&p.firewall.lan, &p.firewall.wan})
    for (const std::string& d : *zone)
      if (d == c) return true;
  return false;
}

// The source addresses a packet the container sends through host-side device
// `c` may carry: exactly the addresses declared for its interfaces behind `c`
// (full length: not the rest of their subnet) and, for those the host-side
// table judges, the link-local address the launcher gave each
// (pinned_link_local). Not any other fe80::/10 address: with IPV6_FREEBIND
// (no capability) a container sends from the router's or a neighbour's.
// `mine`: whether an interface's addresses are sources through that device.
Result<std::vector<Cidr>> own_sources(const policy::Policy& p, const std::function<bool(const policy::Interface&)>& mine) {
  std::vector<Cidr> out;
  for (const policy::Interface& j : p.interfaces) {
    if (!mine(j)) continue;
    for (const std::string& text : j.addresses) {
      auto net = parse_cidr(text);
      if (!net.ok()) return std::move(net).error();
      out.push_back(*net);
    }
    if (auto ll = pinned_link_local(p, j)) out.push_back(*ll);
  }
  for (Cidr& net : out) net.prefix = static_cast<uint8_t>(net.addr_len() * 8);
  return out;
}

// How a from-<c> chain knows the interface's IPv6 link-local sources.
enum class LinkLocal {
  kListed,               // host side: only those in the list (the pinned one)
  kOwnedByTheInterface,  // container side: any fe80::/10 address of the
                         // interface the packet leaves by (fib saddr . oif
                         // type local): the kernel's own, however its
                         // namespace makes it; the container cannot add one
                         // (no CAP_NET_ADMIN there)
};

// The regular chain "from-<c>" that lets only `sources` pass (return) and
// drops everything else; the caller jumps to it from its base chains.
// Besides them, the unspecified source `::` passes in exactly one form:
// duplicate address detection (RFC 4862: a neighbour solicitation, hop limit
// 255, code 0, to a solicited-node multicast group); any other packet from
// `::` (UDP to a service, a "solicitation" to a unicast address carrying data
// to a raw ICMPv6 listener) is dropped.
Status add_sources_chain(Rules& r, const std::string& c, const std::vector<Cidr>& sources, LinkLocal link_local) {
  const std::string from = "from-" + c;
  r.regular_chain(from);
  for (const Cidr& src : sources) r.rule(from, [&](nlmsghdr* n) { saddr_in(n, src); verdict(n, NFT_RETURN); });
  if (link_local == LinkLocal::kOwnedByTheInterface) {
    const Cidr fe80{AF_INET6, {0xfe, 0x80}, 10};
    r.rule(from, [&](nlmsghdr* n) { saddr_in(n, fe80); source_local_on_oif(n); verdict(n, NFT_RETURN); });
  }
  const Cidr unspecified{AF_INET6, {}, 128}, solicited_node{AF_INET6, {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff}, 104};
  r.rule(from, [&](nlmsghdr* n) {
    saddr_in(n, unspecified);
    addr_in(n, solicited_node, false);
    neighbour_discovery(n, 135);
    verdict(n, NFT_RETURN);
  });
  r.rule(from, [&](nlmsghdr* n) { verdict(n, NF_DROP); });
  return ok_status();
}

Status add_rules(Rules& r, const policy::Policy& p) {
  const policy::Firewall& fw = p.firewall;
  r.chain("input", "filter", NF_INET_LOCAL_IN, kFilterPriority);
  r.chain("output", "filter", NF_INET_LOCAL_OUT, kFilterPriority);
  r.chain("forward", "filter", NF_INET_FORWARD, kFilterPriority);
  // The container's packets enter the host's stack at prerouting.
  r.chain("source-check", "filter", NF_INET_PRE_ROUTING, kSourceCheckPriority);
  std::set<std::string> seen;
  for (const policy::Interface& itf : p.interfaces) {
    if (policy::filtered_in_container(itf)) continue;  // add_container_rules()
    const std::string c = host_side(p, itf);
    if (!seen.insert(c).second) continue;  // two interfaces in one bridge: one set of rules
    if (in_zone(p, itf)) continue;
    std::vector<const policy::FirewallAllow*> allows;
    for (const policy::FirewallAllow& a : fw.allow_in)
      for (const policy::Interface& j : p.interfaces)
        if (j.name == a.interface && host_side(p, j) == c) allows.push_back(&a);

    // Anti-spoofing, before conntrack and anything that may accept: the
    // rules below judge by interface, and a packet from the container with
    // a source it does not own (IPV6_FREEBIND needs no capability;
    // CAP_NET_ADMIN/CAP_NET_RAW in its own namespace set any IPv4 one)
    // would otherwise be forwarded as someone else's (not masqueraded:
    // outside its prefixes), or match another host's conntrack entry as
    // "established" (a reply into a LAN host's flow that allow_out never
    // allowed).
    auto own = own_sources(p, [&](const policy::Interface& j) {
      return !policy::filtered_in_container(j) && host_side(p, j) == c;
    });
    if (!own.ok()) return std::move(own).error();
    NESTBOX_TRY(add_sources_chain(r, c, *own, LinkLocal::kListed));
    const std::string from = "from-" + c;
    r.rule("source-check", [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); verdict(n, NFT_JUMP, from.c_str()); });
    // From the container: its connections' packets, and ICMP errors
    // ("related") only about a connection it is a party of. Conntrack takes
    // any ICMP error whose quoted packet names a connection as related to
    // it, wherever it comes from: with CAP_NET_RAW the container forged
    // "port unreachable" from its own address about the router's own flows
    // (the router's socket got ECONNREFUSED) or a LAN host's.
    auto from_container = [&](const char* chain) {
      r.rule(chain, [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); ct_state(n, kEstablished); verdict(n, NF_ACCEPT); });
      for (const Cidr& a : *own)
        for (bool source : {true, false})
          r.rule(chain, [&](nlmsghdr* n) {
            ifname(n, NFT_META_IIFNAME, c);
            ct_state(n, kRelated);
            ct_original_addr(n, a, source);
            verdict(n, NF_ACCEPT);
          });
      // Any other "related" packet is dropped here, before the zones
      // allow_out opens: those accept by interface, and would take the
      // forged error with them.
      r.rule(chain, [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); ct_state(n, kRelated); verdict(n, NF_DROP); });
    };

    // container -> host
    for_each_neighbour_discovery([&](const auto& m) {
      r.rule("input", [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); m(n); verdict(n, NF_ACCEPT); });
    });
    from_container("input");
    if (fw.allow_out & policy::kZoneHost)
      r.rule("input", [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); verdict(n, NF_ACCEPT); });
    r.rule("input", [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); verdict(n, NF_DROP); });

    // host -> container
    for_each_neighbour_discovery([&](const auto& m) {
      r.rule("output", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); m(n); verdict(n, NF_ACCEPT); });
    });
    r.rule("output", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); ct_established(n); verdict(n, NF_ACCEPT); });
    for (const auto* a : allows)
      if (a->from & policy::kZoneHost)
        for_each_match(*a, [&](const auto& m) {
          r.rule("output", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); m(n); verdict(n, NF_ACCEPT); });
        });
    r.rule("output", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); verdict(n, NF_DROP); });

    // container -> lan/wan, and replies
    from_container("forward");
    r.rule("forward", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); ct_established(n); verdict(n, NF_ACCEPT); });
    for (auto [bit, devs] : {std::pair{policy::kZoneLan, &fw.lan}, std::pair{policy::kZoneWan, &fw.wan}})
      if (fw.allow_out & bit)
        for (const std::string& d : *devs)
          r.rule("forward", [&](nlmsghdr* n) {
            ifname(n, NFT_META_IIFNAME, c);
            ifname(n, NFT_META_OIFNAME, d);
            verdict(n, NF_ACCEPT);
          });
    r.rule("forward", [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); verdict(n, NF_DROP); });
    // lan/wan -> container, on the allowed ports only
    for (const auto* a : allows)
      for (auto [bit, devs] : {std::pair{policy::kZoneLan, &fw.lan}, std::pair{policy::kZoneWan, &fw.wan}})
        if (a->from & bit)
          for (const std::string& d : *devs)
            for_each_match(*a, [&](const auto& m) {
              r.rule("forward", [&](nlmsghdr* n) {
                ifname(n, NFT_META_IIFNAME, d);
                ifname(n, NFT_META_OIFNAME, c);
                m(n);
                verdict(n, NF_ACCEPT);
              });
            });
    r.rule("forward", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); verdict(n, NF_DROP); });
  }
  return ok_status();
}

// The table in the container's own namespace, for its macvlan/vlan/phys
// interfaces: each is on its parent's segment (zone z). In: replies, and the
// allow_in entries for it that name z. Out: replies, and anything when z is
// in allow_out. Everything else on it is dropped; other interfaces (lo, its
// veths: filtered on the host) are not this table's to judge.
Status add_container_rules(Rules& r, const policy::Policy& p) {
  const policy::Firewall& fw = p.firewall;
  r.chain("input", "filter", NF_INET_LOCAL_IN, kFilterPriority);
  r.chain("output", "filter", NF_INET_LOCAL_OUT, kFilterPriority);
  // The container's own packets: they enter at output (this is its namespace).
  r.chain("source-check", "filter", NF_INET_LOCAL_OUT, kSourceCheckPriority);
  for (const policy::Interface& itf : p.interfaces) {
    if (!policy::filtered_in_container(itf)) continue;
    const std::string& c = itf.name;
    uint8_t zone = policy::segment_zone(fw, itf);
    // Only its own sources onto the segment: IPV6_FREEBIND (no capability)
    // sends from any IPv6 address, and a datagram "from" the router or a LAN host
    // (DNS answers, syslog, anything trusting a source) is not the app's to send.
    auto own = own_sources(p, [&](const policy::Interface& j) { return &j == &itf; });
    if (!own.ok()) return std::move(own).error();
    NESTBOX_TRY(add_sources_chain(r, c, *own, LinkLocal::kOwnedByTheInterface));
    r.rule("source-check", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); verdict(n, NFT_JUMP, ("from-" + c).c_str()); });
    for_each_neighbour_discovery([&](const auto& m) {
      r.rule("input", [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); m(n); verdict(n, NF_ACCEPT); });
      r.rule("output", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); m(n); verdict(n, NF_ACCEPT); });
    });
    r.rule("input", [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); ct_established(n); verdict(n, NF_ACCEPT); });
    for (const policy::FirewallAllow& a : fw.allow_in)
      if (a.interface == c && (a.from & zone))
        for_each_match(a, [&](const auto& m) {
          r.rule("input", [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); m(n); verdict(n, NF_ACCEPT); });
        });
    r.rule("input", [&](nlmsghdr* n) { ifname(n, NFT_META_IIFNAME, c); verdict(n, NF_DROP); });
    r.rule("output", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); ct_established(n); verdict(n, NF_ACCEPT); });
    if (fw.allow_out & zone)
      r.rule("output", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); verdict(n, NF_ACCEPT); });
    r.rule("output", [&](nlmsghdr* n) { ifname(n, NFT_META_OIFNAME, c); verdict(n, NF_DROP); });
  }
  return ok_status();
}

// NAT for exactly the container's own addresses, not their prefixes: the
// source check lets nothing else out of its devices, and a prefix reached
// whatever else the router sends from it (a manifest's "10.0.0.2/8" or
// "2001:db8::2/32" NATed the LAN's own traffic to the WAN while the container
// ran).
Status add_masquerade(Rules& r, const policy::Policy& p) {
  r.chain("postrouting", "nat", NF_INET_POST_ROUTING, kSrcNatPriority);
  for (const policy::Interface& itf : p.interfaces)
    for (const std::string& text : in_zone(p, itf) || policy::filtered_in_container(itf) ? std::vector<std::string>{}
                                                                                           : itf.addresses) {
      auto net = parse_cidr(text);
      if (!net.ok()) return std::move(net).error();
      net->prefix = static_cast<uint8_t>(net->addr_len() * 8);
      for (const std::string& d : p.firewall.wan)
        r.rule("postrouting", [&](nlmsghdr* n) {
          saddr_in(n, *net);
          ifname(n, NFT_META_OIFNAME, d);
          expr(n, "masq", [] {});
        });
    }
  return ok_status();
}

// --- sending --------------------------------------------------------------------

// An nf_tables socket in the calling thread's network namespace, or in the
// one `netns_fd` names (a socket stays bound to the namespace it was made in).
struct CloseMnl {
  void operator()(mnl_socket* nl) const { mnl_socket_close(nl); }
};
using NftSocket = std::unique_ptr<mnl_socket, CloseMnl>;

Result<NftSocket> open_nftables(int netns_fd) {
  auto fd = netlink_socket_in(NETLINK_NETFILTER, netns_fd);
  if (!fd.ok()) return std::move(fd.error().context("netlink: nftables socket"));
  NftSocket nl(mnl_socket_fdopen(fd->get()));
  if (!nl) return sys_error("netlink: nftables socket");
  (void)fd->release();  // the mnl_socket owns it now
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return sys_error("netlink: bind");
  return nl;
}

// Reads the kernel's answers on `nl` until `take` (given each datagram)
// returns true; each wait is at most 5 s (then "`what`: `silence`").
Status read_answers(mnl_socket* nl, const std::string& what, const char* silence,
                    const std::function<Result<bool>(const char* data, int len)>& take) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  for (;;) {
    pollfd pfd{mnl_socket_get_fd(nl), POLLIN, 0};
    int ready = ::poll(&pfd, 1, 5000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return sys_error(what + ": poll");
    if (ready == 0) return failure(what + ": " + silence);
    ssize_t got = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (got < 0) return sys_error(what + ": netlink receive");
    auto done = take(buf.data(), static_cast<int>(got));
    if (!done.ok()) return std::move(done).error();
    if (*done) return ok_status();
  }
}

}  // namespace

std::string firewall_table_name(const std::string& container) { return "nestbox-" + container; }

bool filtered_on_host(const policy::Policy& p, const policy::Interface& itf) {
  return p.firewall.enabled && !policy::filtered_in_container(itf) && !in_zone(p, itf);
}

std::optional<Cidr> pinned_link_local(const policy::Policy& p, const policy::Interface& itf) {
  if (!filtered_on_host(p, itf)) return std::nullopt;
  for (const std::string& text : itf.addresses) {
    auto net = parse_cidr(text);
    if (net.ok() && net->family == AF_INET6 && net->addr[0] == 0xfe && (net->addr[1] & 0xc0) == 0x80)
      return std::nullopt;  // declared: those are its link-local addresses
  }
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 over "container/interface"
  for (char ch : p.name + "/" + itf.name) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
  Cidr ll{AF_INET6, {0xfe, 0x80}, 64};
  for (int i = 0; i < 8; ++i) ll.addr[8 + i] = static_cast<uint8_t>(h >> (56 - 8 * i));
  ll.addr[8] &= 0xfd;  // the interface id's "u" bit clear: not derived from a MAC
  return ll;
}

Result<Batch> build_firewall_batch(const policy::Policy& p, FirewallSide side) {
  if (!p.firewall.enabled) return failure("firewall of " + p.name + ": not enabled in the policy");
  std::string table = firewall_table_name(p.name);
  BatchBuilder b;
  b.message(NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, [&](nlmsghdr* nlh) {
    mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table.c_str());
    put_be32(nlh, NFTA_TABLE_FLAGS, 0);
  });
  Rules r{b, table};
  if (side == FirewallSide::kHost) {
    NESTBOX_TRY(add_rules(r, p));
    if (p.firewall.masquerade) NESTBOX_TRY(add_masquerade(r, p));
  } else {
    NESTBOX_TRY(add_container_rules(r, p));
  }
  auto batch = b.finish();
  if (!batch.ok()) return std::move(batch.error().context("firewall of " + p.name));
  return batch;
}

bool has_side(const policy::Policy& p, FirewallSide side) {
  if (!p.firewall.enabled) return false;
  for (const policy::Interface& itf : p.interfaces)
    if (policy::filtered_in_container(itf) == (side == FirewallSide::kContainer)) return true;
  return false;
}

Batch build_delete_batch(const std::string& container) {
  std::string table = firewall_table_name(container);
  BatchBuilder b;
  b.message(NFT_MSG_DELTABLE, 0, [&](nlmsghdr* nlh) { mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table.c_str()); });
  return *b.finish();  // one small message: always fits
}

Status send_batch(const Batch& batch, const std::string& what, int netns_fd) {
  auto nl = open_nftables(netns_fd);
  if (!nl.ok()) return std::move(nl.error().context(what));
  if (mnl_socket_sendto(nl->get(), batch.data(), batch.length) < 0) return sys_error(what + ": netlink send");
  // nf_tables handles the batch inside sendmsg(); every answer is queued by
  // the time it returns. Wait a little anyway rather than trust that.
  std::set<uint32_t> pending(batch.acked.begin(), batch.acked.end());
  if (pending.empty()) return ok_status();
  unsigned portid = mnl_socket_get_portid(nl->get());
  return read_answers(nl->get(), what, "the kernel did not acknowledge the batch", [&](const char* data, int n) -> Result<bool> {
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(data); mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
      if (nlh->nlmsg_pid != portid || nlh->nlmsg_type != NLMSG_ERROR) continue;
      if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) return failure(what + ": short netlink error message");
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error != 0) return sys_error(what, -err->error);
      pending.erase(nlh->nlmsg_seq);
    }
    return pending.empty();
  });
}

Firewall& Firewall::operator=(Firewall&& o) noexcept {
  if (this != &o) {
    (void)remove();
    container_ = std::move(o.container_);
    o.container_.clear();
  }
  return *this;
}

Status Firewall::remove() {
  if (container_.empty()) return ok_status();
  std::string name = std::move(container_);
  container_.clear();
  Status s = send_batch(build_delete_batch(name), "firewall of " + name + ": delete table " + firewall_table_name(name));
  if (!s.ok() && s.error().sys_errno == ENOENT) return ok_status();
  return s;
}

Result<Firewall> install_firewall(const policy::Policy& p) {
  // A table of this container's name can only be a stale one (nestbox-launch
  // killed before it could remove it): one container of a name runs at a time.
  Firewall stale(p.name);
  NESTBOX_TRY(stale.remove());
  if (!has_side(p, FirewallSide::kHost)) return Firewall();  // nothing routed through the host
  auto batch = build_firewall_batch(p, FirewallSide::kHost);
  if (!batch.ok()) return std::move(batch).error();
  NESTBOX_TRY(send_batch(*batch, "firewall of " + p.name + ": create table " + firewall_table_name(p.name)));
  return Firewall(p.name);
}

}  // namespace nestbox::network

namespace nestbox::network {

namespace {

// Collects the name of the table one dump answer describes.
int table_name_attr(const nlattr* a, void* data) {
  if (mnl_attr_get_type(a) == NFTA_TABLE_NAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
    static_cast<std::vector<std::string>*>(data)->push_back(mnl_attr_get_str(a));
  return MNL_CB_OK;
}
int collect_table(const nlmsghdr* nlh, void* data) {
  return mnl_attr_parse(nlh, sizeof(nfgenmsg), table_name_attr, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

}  // namespace

namespace {

Result<bool> list_for_container_firewall(int netns_fd) {
  const std::string what = "firewall: list the tables of a network namespace";
  auto nl = open_nftables(netns_fd);
  if (!nl.ok()) return std::move(nl.error().context(what));
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE);
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = 1;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = NFPROTO_INET;
  nfg->version = NFNETLINK_V0;
  if (mnl_socket_sendto(nl->get(), nlh, nlh->nlmsg_len) < 0) return sys_error(what + ": netlink send");
  std::vector<std::string> names;
  unsigned portid = mnl_socket_get_portid(nl->get());
  NESTBOX_TRY(read_answers(nl->get(), what, "the kernel did not answer", [&](const char* data, int n) -> Result<bool> {
    int r = mnl_cb_run(data, static_cast<size_t>(n), 1, portid, collect_table, &names);
    if (r == MNL_CB_ERROR) return sys_error(what);
    return r == MNL_CB_STOP;  // NLMSG_DONE
  }));
  const std::string prefix = firewall_table_name("");
  for (const std::string& n : names)
    if (n.compare(0, prefix.size(), prefix) == 0) return true;
  return false;
}

}  // namespace

Result<bool> holds_container_firewall(int netns_fd) {
  for (int attempt = 1;; ++attempt) {
    auto held = list_for_container_firewall(netns_fd);
    if (held.ok()) return held;
    int e = held.error().sys_errno;
    // Without nfnetlink or nf_tables no firewall of ours can be there.
    if (e == EPROTONOSUPPORT || e == EOPNOTSUPP) return false;
    // A dump a table change interrupted (NLM_F_DUMP_INTR) is asked again.
    if (e != EINTR || attempt == 3) return held;
  }
}

Status install_container_firewall(const policy::Policy& p, int netns_fd) {
  if (!has_side(p, FirewallSide::kContainer)) return ok_status();
  auto batch = build_firewall_batch(p, FirewallSide::kContainer);
  if (!batch.ok()) return std::move(batch).error();
  return send_batch(*batch, "firewall of " + p.name + ": create table " + firewall_table_name(p.name) +
                                " in its network namespace", netns_fd);
}

}  // namespace nestbox::network
