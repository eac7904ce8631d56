#include "util/fd_passing.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace nestbox {

Status send_fd(int sock, char byte, int fd) {
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&hdr);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (::sendmsg(sock, &hdr, MSG_NOSIGNAL) != 1) return sys_error("send a descriptor");
  return {};
}

Result<std::string> receive_with_fd(int sock, UniqueFd* passed) {
  char buf[4096];
  iovec iov{buf, sizeof buf};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(sock, &hdr, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n < 0) return sys_error("receive");
  for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c; c = CMSG_NXTHDR(&hdr, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) continue;
    int got;
    std::memcpy(&got, CMSG_DATA(c), sizeof got);
    UniqueFd owned(got);  // closed here unless asked for
    if (passed) *passed = std::move(owned);
  }
  if (hdr.msg_flags & MSG_CTRUNC) return failure("receive: unexpected descriptors");
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace nestbox
