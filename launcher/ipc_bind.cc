#include "launcher/ipc_bind.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "launcher/rootpath.h"
#include "policy/host_sources.h"
#include "util/fd.h"

namespace nestbox::launcher {
namespace {

const char* kind_of(mode_t m) {
  if (S_ISLNK(m)) return "a symlink";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISREG(m)) return "a regular file";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m) || S_ISBLK(m)) return "a device node";
  if (S_ISSOCK(m)) return "a socket";
  return "of unknown type";
}

bool at_or_below(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path.compare(0, dir.size(), dir) == 0 && (path.size() == dir.size() || path[dir.size()] == '/');
}

// Where the opened socket really lies, checked after the open. The name may
// pass through links the host keeps (OpenWrt's /var is a link to /tmp), so
// the check is on the directories the kernel reached, not on the name: one
// that someone other than root or the socket's owner (ubusd's user) could
// change, or one this container can write through a bind or storage mount,
// would let a swapped directory or link put another socket here at the next
// start. The walk opens each directory without following links and must end
// at the very inode opened: a rename in between fails it, never passes it.
Status check_socket_home(int src_fd, const struct stat& st, const std::string& host_socket,
                         const std::vector<std::string>& writable_sources) {
  const std::string what = "ubus socket " + host_socket;
  char buf[PATH_MAX];
  ssize_t n = ::readlink(fd_path(src_fd).c_str(), buf, sizeof buf);
  if (n < 0) return sys_error(what + ": where it lies");
  std::string real(buf, static_cast<size_t>(n));
  if (static_cast<size_t>(n) >= sizeof buf || real.empty() || real[0] != '/' || real == "/")
    return bad_input(what + " lies at \"" + real + "\"; expected a path from the host's root");
  for (const std::string& w : writable_sources)
    if (at_or_below(real, w))
      return bad_input(what + " lies at " + real + ", below \"" + w +
                       "\", which the container can write (it could put another socket there); expected it "
                       "outside the container's writable host sources");
  UniqueFd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error("open /");
  std::string at = "/";
  size_t from = 1;
  for (;;) {
    struct stat ds;
    if (::fstat(dir.get(), &ds) != 0) return sys_error("stat " + at);
    if (ds.st_uid != 0 && ds.st_uid != st.st_uid)
      return bad_input(what + ": the directory " + at + " on its way belongs to uid " + std::to_string(ds.st_uid) +
                       "; expected root or the socket's owner (" + std::to_string(st.st_uid) + ")");
    if ((ds.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (ds.st_mode & S_ISVTX) == 0)
      return bad_input(what + ": the directory " + at +
                       " on its way is writable by group or others without the sticky bit; expected only its "
                       "owner to rename what lies in it");
    size_t slash = real.find('/', from);
    std::string name = real.substr(from, slash == std::string::npos ? std::string::npos : slash - from);
    if (name.empty() || name == "." || name == "..")
      return bad_input(what + " lies at \"" + real + "\"; expected a clean path");
    if (slash == std::string::npos) {
      UniqueFd last(::openat(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      struct stat ls;
      if (!last || ::fstat(last.get(), &ls) != 0 || ls.st_dev != st.st_dev || ls.st_ino != st.st_ino)
        return failure(what + ": " + real + " is no longer the socket opened; refusing a path that changed");
      return ok_status();
    }
    UniqueFd next(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    at = real.substr(0, slash);
    if (!next) return sys_error(what + ": " + at + " (it changed while checked)");
    dir = std::move(next);
    from = slash + 1;
  }
}

}  // namespace

Status bind_socket_in_root(const std::string& host_socket, int root_fd, const std::string& target,
                           const std::vector<std::string>& writable_sources) {
  // O_PATH | O_NOFOLLOW: a symlink at the socket's name is opened as itself
  // (and refused below), so nothing else can be bound in its place; the fd is
  // what gets bound, never the name again.
  UniqueFd src(::open(host_socket.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!src) return sys_error("ubus socket " + host_socket);
  struct stat st;
  if (::fstat(src.get(), &st) != 0) return sys_error("stat ubus socket " + host_socket);
  if (!S_ISSOCK(st.st_mode))
    return bad_input("ubus socket " + host_socket + " is " + kind_of(st.st_mode) + ", not a socket");
  NESTBOX_TRY(check_socket_home(src.get(), st, host_socket, writable_sources));
  auto dst = open_in_root(root_fd, target, O_PATH | O_NOFOLLOW);
  if (!dst.ok()) return std::move(dst.error().context("ubus socket target (compose makes it)"));
  struct stat dt;
  if (::fstat(dst->get(), &dt) != 0) return sys_error("stat " + target);
  if (!S_ISREG(dt.st_mode))
    return bad_input("ubus socket target " + target + " is " + kind_of(dt.st_mode) +
                     " in the image; expected the empty regular file compose makes");
  if (::mount(fd_path(src.get()).c_str(), fd_path(dst->get()).c_str(), nullptr, MS_BIND, nullptr) != 0)
    return sys_error("bind ubus socket onto " + target);
  // A bind ignores flags on its first call; the remount sets them, on the
  // mount just made (opened again beneath the root: the new mount's root).
  auto bound = open_in_root(root_fd, target, O_PATH | O_NOFOLLOW);
  if (!bound.ok()) return std::move(bound.error().context("ubus socket bound at " + target));
  struct stat bt;
  if (::fstat(bound->get(), &bt) != 0) return sys_error("stat " + target);
  if (!S_ISSOCK(bt.st_mode) || bt.st_dev != st.st_dev || bt.st_ino != st.st_ino)
    return failure("ubus socket target " + target + " is not the socket just bound");
  if (::mount("", fd_path(bound->get()).c_str(), nullptr,
              MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, nullptr) != 0)
    return sys_error("remount ubus socket " + target);
  return ok_status();
}

Status bind_ipc(const policy::Policy& policy, int root_fd) {
  if (policy.ipc.ubus_socket.empty()) return ok_status();
  std::vector<policy::HostSource> sources;
  for (size_t i = 0; i < policy.mounts.size(); ++i) {
    const policy::Mount& m = policy.mounts[i];
    policy::add_host_sources(m.kind, m.source, (m.flags & policy::kMountReadOnly) != 0, i, sources);
  }
  std::vector<std::string> writable;
  for (const policy::HostSource& s : sources)
    if (s.writable) writable.push_back(s.path);
  return bind_socket_in_root(policy.ipc.ubus_socket, root_fd, policy.ipc.ubus_target, writable);
}

}  // namespace nestbox::launcher
