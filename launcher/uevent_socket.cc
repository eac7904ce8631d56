#include "launcher/uevent_socket.h"

#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace nestbox::launcher {

Result<UeventSocket> UeventSocket::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT));
  if (!fd) return sys_error("uevent socket (NETLINK_KOBJECT_UEVENT)");
  int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) return sys_error("uevent SO_PASSCRED");
  // A burst (a USB hub with several disks) must not overflow: 1 MiB as udev does.
  int size = 1 << 20;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  sockaddr_nl addr;
  std::memset(&addr, 0, sizeof addr);
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = 1;  // the kernel's group (udev re-broadcasts on group 2)
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return sys_error("bind uevent socket");
  return UeventSocket(std::move(fd));
}

UeventSocket::Message UeventSocket::receive() {
  Message m;
  uint8_t buf[kMaxUeventSize + 1];
  iovec iov{buf, sizeof buf};
  sockaddr_nl from;
  std::memset(&from, 0, sizeof from);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
  msghdr hdr;
  std::memset(&hdr, 0, sizeof hdr);
  hdr.msg_name = &from;
  hdr.msg_namelen = sizeof from;
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(fd_.get(), &hdr, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n < 0) {
    if (errno == ENOBUFS) m.got = Got::kLost;
    return m;  // EAGAIN: nothing pending
  }
  m.got = Got::kDropped;
  if (hdr.msg_namelen != sizeof from || from.nl_family != AF_NETLINK || from.nl_pid != 0) {
    m.why = "not sent by the kernel (sender port " + std::to_string(from.nl_pid) + ")";
    return m;
  }
  const ucred* cred = nullptr;
  for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c; c = CMSG_NXTHDR(&hdr, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(ucred)))
      cred = reinterpret_cast<const ucred*>(CMSG_DATA(c));
  if (!cred || cred->uid != 0 || cred->pid != 0) {
    m.why = "no kernel credentials";
    return m;
  }
  if ((hdr.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || static_cast<size_t>(n) > kMaxUeventSize) {
    m.why = "truncated";
    return m;
  }
  auto ev = parse_uevent(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
  if (!ev.ok()) {
    m.why = ev.error().message;
    return m;
  }
  m.got = Got::kEvent;
  m.event = std::move(*ev);
  return m;
}

}  // namespace nestbox::launcher
