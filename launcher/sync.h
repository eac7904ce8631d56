// The launcher ↔ container setup channel (SOCK_SEQPACKET, close-on-exec):
// one message per step; the container's side closes on exec, so EOF with no
// error message means "the container process is running".
#pragma once

#include <sys/socket.h>

#include <string>

#include "util/fd.h"
#include "util/fd_passing.h"
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
  Status s = send_fd(sock, msg, fd);
  if (!s.ok()) return std::move(s.error().context("sync"));
  return {};
}

inline void sync_send_error(int fd, const Error& e) {
  std::string m = std::string(1, kSyncError) + e.message;
  (void)!::send(fd, m.data(), m.size(), MSG_NOSIGNAL);
}

// One message; "" on EOF. `passed`: receives a descriptor sent with it
// (close-on-exec; any other is closed).
inline Result<std::string> sync_recv(int fd, UniqueFd* passed = nullptr) {
  auto r = receive_with_fd(fd, passed);
  if (!r.ok()) return std::move(r.error().context("sync"));
  return r;
}

inline Status sync_expect(int fd, char msg) {
  auto r = sync_recv(fd);
  if (!r.ok()) return std::move(r).error();
  if (r->size() != 1 || (*r)[0] != msg) return failure("launcher went away during setup");
  return {};
}

}  // namespace nestbox::launcher
