#include "network/messages.h"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>

namespace nestbox::network {

Message::Message() : buf_(MNL_SOCKET_BUFFER_SIZE / sizeof(uint64_t), 0) {}

Message begin_message(uint16_t type, uint16_t flags) {
  Message m;
  nlmsghdr* nlh = mnl_nlmsg_put_header(m.buf_.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  return m;
}

namespace {

ifinfomsg* put_ifinfo(nlmsghdr* nlh, int index) {
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return ifi;
}

Message new_link(const std::string& name, int netns_fd) {
  Message m = begin_message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  put_ifinfo(m.header(), 0);
  mnl_attr_put_strz(m.header(), IFLA_IFNAME, name.c_str());
  if (netns_fd >= 0) mnl_attr_put_u32(m.header(), IFLA_NET_NS_FD, static_cast<uint32_t>(netns_fd));
  return m;
}

}  // namespace

uint32_t macvlan_mode_value(policy::MacvlanMode mode) {
  switch (mode) {
    case policy::MacvlanMode::kVepa: return MACVLAN_MODE_VEPA;
    case policy::MacvlanMode::kPrivate: return MACVLAN_MODE_PRIVATE;
    case policy::MacvlanMode::kBridge: return MACVLAN_MODE_BRIDGE;
    case policy::MacvlanMode::kPassthru: return MACVLAN_MODE_PASSTHRU;
  }
  return MACVLAN_MODE_PRIVATE;
}

Message get_link(const std::string& name) {
  Message m = begin_message(RTM_GETLINK, 0);
  put_ifinfo(m.header(), 0);
  mnl_attr_put_strz(m.header(), IFLA_IFNAME, name.c_str());
  return m;
}

Message set_link(const LinkChange& c) {
  Message m = begin_message(RTM_NEWLINK, 0);
  ifinfomsg* ifi = put_ifinfo(m.header(), c.index);
  if (c.up) {
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
  }
  nlmsghdr* nlh = m.header();
  if (c.netns_fd) mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(*c.netns_fd));
  if (c.name) mnl_attr_put_strz(nlh, IFLA_IFNAME, c.name->c_str());
  if (c.mac) mnl_attr_put(nlh, IFLA_ADDRESS, c.mac->size(), c.mac->data());
  if (c.mtu) mnl_attr_put_u32(nlh, IFLA_MTU, *c.mtu);
  if (c.master) mnl_attr_put_u32(nlh, IFLA_MASTER, static_cast<uint32_t>(*c.master));
  if (c.arp_notify || c.no_ipv6_link_local) {
    nlattr* af_spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
    if (c.arp_notify) {
      nlattr* inet = mnl_attr_nest_start(nlh, AF_INET);
      nlattr* conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
      mnl_attr_put_u32(nlh, IPV4_DEVCONF_ARP_NOTIFY, 1);
      mnl_attr_nest_end(nlh, conf);
      mnl_attr_nest_end(nlh, inet);
    }
    if (c.no_ipv6_link_local) {
      nlattr* inet6 = mnl_attr_nest_start(nlh, AF_INET6);
      mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
      mnl_attr_nest_end(nlh, inet6);
    }
    mnl_attr_nest_end(nlh, af_spec);
  }
  return m;
}

Message del_link(int index) {
  Message m = begin_message(RTM_DELLINK, 0);
  put_ifinfo(m.header(), index);
  return m;
}

Message new_veth(const std::string& host_name, const std::string& peer_name, int peer_netns_fd) {
  Message m = new_link(host_name, -1);
  nlmsghdr* nlh = m.header();
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer's attributes follow its own ifinfomsg inside VETH_INFO_PEER.
  put_ifinfo(nlh, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name.c_str());
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return m;
}

Message new_macvlan(const std::string& name, int parent_index, policy::MacvlanMode mode,
                    int netns_fd) {
  Message m = new_link(name, netns_fd);
  nlmsghdr* nlh = m.header();
  mnl_attr_put_u32(nlh, IFLA_LINK, static_cast<uint32_t>(parent_index));
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, macvlan_mode_value(mode));
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return m;
}

Message new_vlan(const std::string& name, int parent_index, uint16_t vlan_id, int netns_fd) {
  Message m = new_link(name, netns_fd);
  nlmsghdr* nlh = m.header();
  mnl_attr_put_u32(nlh, IFLA_LINK, static_cast<uint32_t>(parent_index));
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vlan");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put_u16(nlh, IFLA_VLAN_ID, vlan_id);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return m;
}

Message new_address(int index, const Cidr& cidr) {
  Message m = begin_message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  nlmsghdr* nlh = m.header();
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = static_cast<uint8_t>(cidr.family);
  ifa->ifa_prefixlen = cidr.prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(index);
  mnl_attr_put(nlh, IFA_LOCAL, cidr.addr_len(), cidr.addr.data());
  mnl_attr_put(nlh, IFA_ADDRESS, cidr.addr_len(), cidr.addr.data());
  if (cidr.family == AF_INET6) {
    ifa->ifa_flags = IFA_F_NODAD;
    mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
  }
  return m;
}

Message new_route(int index, const ParsedRoute& route) {
  Message m = begin_message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  nlmsghdr* nlh = m.header();
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  const Cidr& dst = route.destination;
  rtm->rtm_family = static_cast<uint8_t>(dst.family);
  rtm->rtm_dst_len = dst.prefix;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_type = RTN_UNICAST;
  rtm->rtm_scope = route.has_gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  if (dst.prefix > 0) mnl_attr_put(nlh, RTA_DST, dst.addr_len(), dst.addr.data());
  if (route.has_gateway) mnl_attr_put(nlh, RTA_GATEWAY, dst.addr_len(), route.gateway.data());
  mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(index));
  return m;
}

}  // namespace nestbox::network
