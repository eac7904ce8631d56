// Encodings checked by parsing the built requests back with libmnl.
#include "network/messages.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/socket.h>

#include <map>
#include <string>

namespace nestbox::network {
namespace {

// Top-level attributes after a fixed header of `hdr` bytes, by type.
std::map<int, const nlattr*> attrs_of(const nlmsghdr* nlh, size_t hdr) {
  std::map<int, const nlattr*> out;
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  for (auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, hdr));
       mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a))); a = mnl_attr_next(a))
    out[mnl_attr_get_type(a)] = a;
  return out;
}

std::map<int, const nlattr*> nested(const nlattr* parent, size_t skip = 0) {
  std::map<int, const nlattr*> out;
  const auto* start = static_cast<const char*>(mnl_attr_get_payload(parent)) + skip;
  const auto* end = static_cast<const char*>(mnl_attr_get_payload(parent)) +
                    mnl_attr_get_payload_len(parent);
  for (auto* a = reinterpret_cast<const nlattr*>(start);
       mnl_attr_ok(a, static_cast<int>(end - reinterpret_cast<const char*>(a)));
       a = mnl_attr_next(a))
    out[mnl_attr_get_type(a)] = a;
  return out;
}

TEST(MessagesTest, VethCreatesPeerInTargetNamespace) {
  Message m = new_veth("nbhost0", "eth0", 7);
  const nlmsghdr* nlh = m.header();
  EXPECT_EQ(nlh->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
  auto top = attrs_of(nlh, sizeof(ifinfomsg));
  ASSERT_TRUE(top.count(IFLA_IFNAME));
  EXPECT_STREQ(mnl_attr_get_str(top[IFLA_IFNAME]), "nbhost0");
  EXPECT_FALSE(top.count(IFLA_NET_NS_FD));  // host end stays in the host namespace
  auto info = nested(top.at(IFLA_LINKINFO));
  EXPECT_STREQ(mnl_attr_get_str(info.at(IFLA_INFO_KIND)), "veth");
  auto data = nested(info.at(IFLA_INFO_DATA));
  auto peer = nested(data.at(VETH_INFO_PEER), sizeof(ifinfomsg));
  EXPECT_STREQ(mnl_attr_get_str(peer.at(IFLA_IFNAME)), "eth0");
  EXPECT_EQ(mnl_attr_get_u32(peer.at(IFLA_NET_NS_FD)), 7u);
}

TEST(MessagesTest, MacvlanModesMapToKernelValues) {
  EXPECT_EQ(macvlan_mode_value(policy::MacvlanMode::kPrivate), MACVLAN_MODE_PRIVATE);
  EXPECT_EQ(macvlan_mode_value(policy::MacvlanMode::kVepa), MACVLAN_MODE_VEPA);
  EXPECT_EQ(macvlan_mode_value(policy::MacvlanMode::kBridge), MACVLAN_MODE_BRIDGE);
  EXPECT_EQ(macvlan_mode_value(policy::MacvlanMode::kPassthru), MACVLAN_MODE_PASSTHRU);
  Message m = new_macvlan("lan0", 3, policy::MacvlanMode::kBridge, 9);
  auto top = attrs_of(m.header(), sizeof(ifinfomsg));
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_LINK)), 3u);
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_NET_NS_FD)), 9u);
  auto info = nested(top.at(IFLA_LINKINFO));
  EXPECT_STREQ(mnl_attr_get_str(info.at(IFLA_INFO_KIND)), "macvlan");
  auto data = nested(info.at(IFLA_INFO_DATA));
  EXPECT_EQ(mnl_attr_get_u32(data.at(IFLA_MACVLAN_MODE)), uint32_t{MACVLAN_MODE_BRIDGE});
}

TEST(MessagesTest, VlanCarriesId) {
  Message m = new_vlan("wan.7", 2, 7, 5);
  auto top = attrs_of(m.header(), sizeof(ifinfomsg));
  EXPECT_STREQ(mnl_attr_get_str(top.at(IFLA_IFNAME)), "wan.7");
  auto info = nested(top.at(IFLA_LINKINFO));
  EXPECT_STREQ(mnl_attr_get_str(info.at(IFLA_INFO_KIND)), "vlan");
  EXPECT_EQ(mnl_attr_get_u16(nested(info.at(IFLA_INFO_DATA)).at(IFLA_VLAN_ID)), 7);
}

TEST(MessagesTest, SetLinkOnlyCarriesWhatChanges) {
  Message plain = set_link({.index = 4, .up = true});
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(plain.header()));
  EXPECT_EQ(ifi->ifi_index, 4);
  EXPECT_EQ(ifi->ifi_flags, unsigned{IFF_UP});
  EXPECT_EQ(ifi->ifi_change, unsigned{IFF_UP});
  EXPECT_TRUE(attrs_of(plain.header(), sizeof(ifinfomsg)).empty());

  Message full = set_link({.index = 4, .name = "eth1", .mac = Mac{2, 0, 0, 0, 0, 9}, .mtu = 1400,
                           .master = 11, .netns_fd = 6});
  ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(full.header()));
  EXPECT_EQ(ifi->ifi_change, 0u);  // up not requested: flags untouched
  auto top = attrs_of(full.header(), sizeof(ifinfomsg));
  EXPECT_STREQ(mnl_attr_get_str(top.at(IFLA_IFNAME)), "eth1");
  ASSERT_EQ(mnl_attr_get_payload_len(top.at(IFLA_ADDRESS)), 6);
  EXPECT_EQ(static_cast<const uint8_t*>(mnl_attr_get_payload(top.at(IFLA_ADDRESS)))[5], 9);
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_MTU)), 1400u);
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_MASTER)), 11u);
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_NET_NS_FD)), 6u);
  EXPECT_EQ(top.count(IFLA_AF_SPEC), 0u);
}

TEST(MessagesTest, ArpNotifyIsTheInetDeviceSetting) {
  Message m = set_link({.index = 4, .arp_notify = true});
  auto top = attrs_of(m.header(), sizeof(ifinfomsg));
  ASSERT_EQ(top.count(IFLA_AF_SPEC), 1u);
  auto inet = nested(top.at(IFLA_AF_SPEC));
  ASSERT_EQ(inet.count(AF_INET), 1u);
  auto conf = nested(nested(inet.at(AF_INET)).at(IFLA_INET_CONF));
  ASSERT_EQ(conf.size(), 1u);
  EXPECT_EQ(mnl_attr_get_u32(conf.at(IPV4_DEVCONF_ARP_NOTIFY)), 1u);
}

// No link-local address of the kernel's making: IFLA_INET6_ADDR_GEN_MODE
// none, alone in its message (a kernel without IPv6 refuses it, and that
// refusal must not take the MAC/MTU change with it).
TEST(MessagesTest, NoIpv6LinkLocalIsTheInet6AddrGenMode) {
  Message m = set_link({.index = 4, .no_ipv6_link_local = true});
  auto top = attrs_of(m.header(), sizeof(ifinfomsg));
  ASSERT_EQ(top.count(IFLA_AF_SPEC), 1u);
  auto af = nested(top.at(IFLA_AF_SPEC));
  ASSERT_EQ(af.size(), 1u);
  auto inet6 = nested(af.at(AF_INET6));
  ASSERT_EQ(inet6.size(), 1u);
  EXPECT_EQ(mnl_attr_get_u8(inet6.at(IFLA_INET6_ADDR_GEN_MODE)), uint8_t{IN6_ADDR_GEN_MODE_NONE});
}

TEST(MessagesTest, Ipv6AddressSkipsDad) {
  Message m = new_address(3, *parse_cidr("fd00::5/64"));
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(m.header()));
  EXPECT_EQ(m.header()->nlmsg_type, RTM_NEWADDR);
  EXPECT_EQ(ifa->ifa_family, AF_INET6);
  EXPECT_EQ(ifa->ifa_prefixlen, 64);
  EXPECT_EQ(ifa->ifa_index, 3u);
  auto top = attrs_of(m.header(), sizeof(ifaddrmsg));
  EXPECT_EQ(mnl_attr_get_payload_len(top.at(IFA_LOCAL)), 16);
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFA_FLAGS)), uint32_t{IFA_F_NODAD});

  Message v4 = new_address(3, *parse_cidr("10.0.0.2/24"));
  auto top4 = attrs_of(v4.header(), sizeof(ifaddrmsg));
  EXPECT_EQ(mnl_attr_get_payload_len(top4.at(IFA_LOCAL)), 4);
  EXPECT_FALSE(top4.count(IFA_FLAGS));
}

TEST(MessagesTest, DefaultRouteHasNoDestination) {
  Message m = new_route(5, *parse_route({"default", "10.0.0.1"}));
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m.header()));
  EXPECT_EQ(rtm->rtm_family, AF_INET);
  EXPECT_EQ(rtm->rtm_dst_len, 0);
  EXPECT_EQ(rtm->rtm_table, RT_TABLE_MAIN);
  EXPECT_EQ(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
  auto top = attrs_of(m.header(), sizeof(rtmsg));
  EXPECT_FALSE(top.count(RTA_DST));
  EXPECT_EQ(mnl_attr_get_u32(top.at(RTA_OIF)), 5u);
  EXPECT_EQ(static_cast<const uint8_t*>(mnl_attr_get_payload(top.at(RTA_GATEWAY)))[3], 1);

  Message link = new_route(5, *parse_route({"192.168.9.0/24", ""}));
  rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(link.header()));
  EXPECT_EQ(rtm->rtm_scope, RT_SCOPE_LINK);
  EXPECT_EQ(rtm->rtm_dst_len, 24);
  EXPECT_TRUE(attrs_of(link.header(), sizeof(rtmsg)).count(RTA_DST));
}

}  // namespace
}  // namespace nestbox::network
