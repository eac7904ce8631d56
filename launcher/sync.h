// The launcher ↔ container setup channel (SOCK_SEQPACKET, close-on-exec):
// one message per step; the container's side closes on exec, so EOF with no
// error message means "the container process is running".
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

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

inline void sync_send_error(int fd, const Error& e) {
  std::string m = std::string(1, kSyncError) + e.message;
  (void)!::send(fd, m.data(), m.size(), MSG_NOSIGNAL);
}

// One message; "" on EOF.
inline Result<std::string> sync_recv(int fd) {
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) < 0 && errno == EINTR) {
  }
  if (n < 0) return sys_error("sync recv");
  return std::string(buf, static_cast<size_t>(n));
}

inline Status sync_expect(int fd, char msg) {
  auto r = sync_recv(fd);
  if (!r.ok()) return std::move(r).error();
  if (r->size() != 1 || (*r)[0] != msg) return failure("launcher went away during setup");
  return {};
}

}  // namespace nestbox::launcher
