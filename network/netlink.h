// An rtnetlink socket (libmnl) bound to one network namespace: the one current
// when it was opened, or a given one (the calling thread setns()es there to
// create the socket and comes straight back; no helper thread).
#pragma once

#include <sys/stat.h>

#include <memory>
#include <string>

#include "network/messages.h"
#include "util/fd.h"
#include "util/result.h"

struct mnl_socket;

namespace nestbox::network {

class NetlinkSocket {
 public:
  // A socket in the calling thread's network namespace.
  static Result<NetlinkSocket> open();
  // A socket in the network namespace `netns_fd` refers to.
  static Result<NetlinkSocket> open_in(int netns_fd);

  NetlinkSocket(NetlinkSocket&&) noexcept;
  NetlinkSocket& operator=(NetlinkSocket&&) noexcept;
  ~NetlinkSocket();

  // Sends `msg` with NLM_F_ACK and waits for the kernel's answer. The error
  // names `what` and the kernel's errno (extended ack message when given).
  Status request(Message& msg, const std::string& what);
  // Index of link `name` in this socket's namespace; kFailure with ENODEV if absent.
  Result<int> link_index(const std::string& name);
  // Index and kind of link `name`, from one answer of the kernel (the kind
  // belongs to that index, not to whatever has the name a moment later).
  struct LinkInfo {
    int index = 0;
    std::string kind;  // IFLA_INFO_KIND: "bridge", "veth", "bond"...; empty: none (a physical device)
  };
  Result<LinkInfo> link_info(const std::string& name);

 private:
  explicit NetlinkSocket(mnl_socket* nl);
  mnl_socket* nl_ = nullptr;
  unsigned seq_ = 0;
  unsigned portid_ = 0;
  int last_ifindex_ = 0;    // ifi_index of the last RTM_NEWLINK reply
  std::string last_kind_;  // its IFLA_INFO_KIND
};

// A netlink socket of `protocol` (NETLINK_ROUTE, NETLINK_NETFILTER) in the
// network namespace `netns_fd` refers to; netns_fd < 0: the calling thread's.
Result<UniqueFd> netlink_socket_in(int protocol, int netns_fd);

// The calling thread's network namespace (/proc/thread-self/ns/net).
Result<UniqueFd> open_current_netns();
// The network namespace of process `pid`.
Result<UniqueFd> open_netns_of(pid_t pid);
// Whether two namespace fds refer to the same namespace.
Result<bool> same_namespace(int fd_a, int fd_b);

}  // namespace nestbox::network
