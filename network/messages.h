// rtnetlink request builders (libmnl). Each function fills a Message with one
// complete request; no I/O here, so the encodings are unit-tested by parsing
// them back. Sequence numbers and NLM_F_ACK are set by NetlinkSocket.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "network/address.h"
#include "policy/policy.h"

namespace nestbox::network {

class Message {
 public:
  Message();
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(buf_.data()); }
  size_t capacity() const { return buf_.size(); }

 private:
  std::vector<uint64_t> buf_;  // 8-byte aligned storage
  friend Message begin_message(uint16_t, uint16_t);
};

// What RTM_NEWLINK (without NLM_F_CREATE) changes on an existing link.
struct LinkChange {
  int index = 0;
  std::optional<std::string> name;   // IFLA_IFNAME (with netns_fd: the name in the target netns)
  std::optional<Mac> mac;            // IFLA_ADDRESS
  std::optional<uint32_t> mtu;       // IFLA_MTU
  std::optional<int> master;         // IFLA_MASTER (bridge ifindex)
  std::optional<int> netns_fd;       // IFLA_NET_NS_FD: move into that netns
  // IFLA_AF_SPEC/AF_INET/IFLA_INET_CONF: the link's arp_notify switched on, so
  // bringing it up (with its addresses already set) announces them in
  // gratuitous ARP.
  bool arp_notify = false;
  // IFLA_AF_SPEC/AF_INET6/IFLA_INET6_ADDR_GEN_MODE none: the kernel gives the
  // link no IPv6 link-local address of its own when it comes up.
  bool no_ipv6_link_local = false;
  bool up = false;                   // set IFF_UP
};

// RTM_GETLINK for one link by name.
Message get_link(const std::string& name);
// RTM_NEWLINK changing an existing link.
Message set_link(const LinkChange& change);
// RTM_DELLINK by index.
Message del_link(int index);
// RTM_NEWLINK|CREATE|EXCL: a veth pair; the peer is created directly in
// peer_netns_fd (the container) under peer_name.
Message new_veth(const std::string& host_name, const std::string& peer_name, int peer_netns_fd);
// RTM_NEWLINK|CREATE|EXCL: macvlan on parent_index, created directly in netns_fd.
Message new_macvlan(const std::string& name, int parent_index, policy::MacvlanMode mode,
                    int netns_fd);
// RTM_NEWLINK|CREATE|EXCL: 802.1Q vlan on parent_index, created directly in netns_fd.
Message new_vlan(const std::string& name, int parent_index, uint16_t vlan_id, int netns_fd);
// RTM_NEWADDR|CREATE|EXCL (IPv6 with IFA_F_NODAD: usable at once).
Message new_address(int index, const Cidr& cidr);
// RTM_NEWROUTE|CREATE|EXCL in the main table via index.
Message new_route(int index, const ParsedRoute& route);

// The kernel's MACVLAN_MODE_* value for a policy mode.
uint32_t macvlan_mode_value(policy::MacvlanMode mode);

}  // namespace nestbox::network
