// The launcher ↔ container setup channel (SOCK_SEQPACKET, close-on-exec):
// one message per step; the container's side closes on exec, so EOF with no
// error message means "the container process is running".
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

enum SyncMsg : char {
  kSyncGo = 'G',        // launcher → container: network ready (NetMode::kInterfaces)
  kSyncUserns = 'U',    // container → launcher: in a new user ns, write the maps
  kSyncMapped = 'u',    // launcher → container: maps written
  kSyncDevices = 'D',   // container → launcher: root mounted, install the device allow-list
  kSyncRestricted = 'd',  // launcher → container: allow-list installed
  kSyncError = 'E',     // container → launcher: 'E' + message
};

inline Status sync_send(int fd, char msg) {
  if (::send(fd, &msg, 1, MSG_NOSIGNAL) != 1) return sys_error("sync send");
  return {};
}

// `msg` with a descriptor (SCM_RIGHTS): the container's /dev for hot-plugged
// devices, sent with kSyncDevices.
inline Status sync_send_fd(int sock, char msg, int fd) {
  iovec iov{&msg, 1};
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
  __builtin_memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (::sendmsg(sock, &hdr, MSG_NOSIGNAL) != 1) return sys_error("sync send");
  return {};
}

inline void sync_send_error(int fd, const Error& e) {
  std::string m = std::string(1, kSyncError) + e.message;
  (void)!::send(fd, m.data(), m.size(), MSG_NOSIGNAL);
}

// One message; "" on EOF. `passed`: receives a descriptor sent with it
// (close-on-exec; any other is closed).
inline Result<std::string> sync_recv(int fd, UniqueFd* passed = nullptr) {
  char buf[4096];
  iovec iov{buf, sizeof buf};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr hdr{};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(fd, &hdr, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n < 0) return sys_error("sync recv");
  for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c; c = CMSG_NXTHDR(&hdr, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) continue;
    int got;
    __builtin_memcpy(&got, CMSG_DATA(c), sizeof got);
    UniqueFd owned(got);
    if (passed) *passed = std::move(owned);
  }
  if (hdr.msg_flags & MSG_CTRUNC) return failure("sync recv: unexpected descriptors");
  return std::string(buf, static_cast<size_t>(n));
}

inline Status sync_expect(int fd, char msg) {
  auto r = sync_recv(fd);
  if (!r.ok()) return std::move(r).error();
  if (r->size() != 1 || (*r)[0] != msg) return failure("launcher went away during setup");
  return {};
}

}  // namespace nestbox::launcher
