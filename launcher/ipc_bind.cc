#include "launcher/ipc_bind.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "launcher/rootpath.h"
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

}  // namespace

Status bind_socket_in_root(const std::string& host_socket, int root_fd, const std::string& target) {
  // O_PATH | O_NOFOLLOW: a symlink at the socket's name is opened as itself
  // (and refused below), so nothing else can be bound in its place; the fd is
  // what gets bound, never the name again.
  UniqueFd src(::open(host_socket.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!src) return sys_error("ubus socket " + host_socket);
  struct stat st;
  if (::fstat(src.get(), &st) != 0) return sys_error("stat ubus socket " + host_socket);
  if (!S_ISSOCK(st.st_mode))
    return bad_input("ubus socket " + host_socket + " is " + kind_of(st.st_mode) + ", not a socket");
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
  return bind_socket_in_root(policy.ipc.ubus_socket, root_fd, policy.ipc.ubus_target);
}

}  // namespace nestbox::launcher
