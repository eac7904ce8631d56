#include "kernel-check/link_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "util/fd.h"

namespace nestbox::kernel_check {

namespace {

// Asks rtnetlink, inside a throwaway network namespace of a child process,
// whether the kernel knows a link kind: "Unknown device type" (EOPNOTSUPP)
// means no. Returns 1 known, 0 unknown kind, -1 cannot tell.
int child_link_kind(const char* kind, const char* ifname) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -1;
  struct {
    nlmsghdr nh;
    ifinfomsg ifi;
    char attrs[128];
  } req;
  std::memset(&req, 0, sizeof req);
  req.nh.nlmsg_type = RTM_NEWLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  req.nh.nlmsg_seq = 1;
  size_t len = NLMSG_LENGTH(sizeof(ifinfomsg));
  auto put = [&](unsigned short type, const void* data, size_t size) -> rtattr* {
    rtattr* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(len));
    a->rta_type = type;
    a->rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
    if (size) std::memcpy(RTA_DATA(a), data, size);
    len = NLMSG_ALIGN(len) + RTA_ALIGN(a->rta_len);
    return a;
  };
  put(IFLA_IFNAME, ifname, std::strlen(ifname) + 1);
  rtattr* info = put(IFLA_LINKINFO, nullptr, 0);
  put(IFLA_INFO_KIND, kind, std::strlen(kind) + 1);
  info->rta_len = static_cast<unsigned short>(reinterpret_cast<char*>(&req) + len -
                                              reinterpret_cast<char*>(info));
  req.nh.nlmsg_len = static_cast<unsigned>(len);
  int result = -1;
  if (::send(fd, &req, len, 0) == static_cast<ssize_t>(len)) {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    const nlmsghdr* nh = reinterpret_cast<const nlmsghdr*>(buf);
    if (n >= static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr))) && nh->nlmsg_type == NLMSG_ERROR) {
      int err = -reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(nh))->error;
      // Created, or EINVAL (a vlan/macvlan without a parent): the kind is known.
      result = err == EOPNOTSUPP ? 0 : (err == 0 || err == EINVAL) ? 1 : -1;
    }
  }
  ::close(fd);
  return result;
}

// Runs child_link_kind for each kind in a forked child with its own network
// namespace, so nothing is created in the caller's. Results as '1','0','?'.
}  // namespace

std::string probe_link_kinds(const std::vector<const char*>& kinds) {
  std::string unknown_all(kinds.size(), '?');
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return unknown_all;
  UniqueFd rd(fds[0]), wr(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return unknown_all;
  if (pid == 0) {
    char out[16] = {};
    size_t n = kinds.size() < 10 ? kinds.size() : 10;
    bool ns = ::unshare(CLONE_NEWNET) == 0;
    for (size_t i = 0; i < n; ++i) {
      char ifname[] = "nbprobe0";
      ifname[7] = static_cast<char>('0' + i % 10);
      int r = ns ? child_link_kind(kinds[i], ifname) : -1;
      out[i] = r == 1 ? '1' : r == 0 ? '0' : '?';
    }
    ssize_t ignored = ::write(wr.get(), out, n);
    (void)ignored;
    ::_exit(0);
  }
  wr.reset();
  std::string result;
  char buf[16];
  ssize_t n;
  while ((n = ::read(rd.get(), buf, sizeof buf)) > 0) result.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (result.size() != kinds.size()) return unknown_all;
  return result;
}

}  // namespace nestbox::kernel_check
