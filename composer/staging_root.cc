#include "composer/staging_root.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "composer/path.h"
#include "util/open_in_root.h"

namespace nestbox::composer {

Result<std::string> validate_hardlink_dir(const std::string& dir) {
  const std::string what = "--hardlink-dir '" + dir + "'";
  if (dir.empty() || dir[0] != '/') return bad_input(what + ": must be an absolute path inside the staging rootfs");
  if (dir == "/") return bad_input(what + ": must not be the root itself");
  if (dir.find('\0') != std::string::npos) return bad_input(what + ": NUL byte");
  std::string norm;
  for (const std::string& c : split_components(dir)) {
    if (c == "." || c == "..") return bad_input(what + ": '" + c + "' component not allowed");
    norm += "/" + c;
  }
  if (norm != dir) return bad_input(what + ": not normalised (expected '" + norm + "')");
  return norm;
}

Result<UniqueFd> open_staging_root(const std::string& staging) {
  UniqueFd fd(::open(staging.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open staging rootfs " + staging);
  return fd;
}

namespace {

// openat2 in the root; errno preserved in the error. No fallback: openat2 is
// in every kernel (5.6+) a build host runs, and a string walk is what broke.
Result<UniqueFd> in_root(int root_fd, const std::string& path, const std::string& display_root) {
  UniqueFd fd = open_confined(root_fd, path, O_RDONLY | O_DIRECTORY, Confine::kInRoot);
  if (!fd) return sys_error("open " + display_root + path + " (resolved inside the staging rootfs)");
  return fd;
}

}  // namespace

Result<UniqueFd> open_dir_in_root(int root_fd, const std::string& path,
                                  const std::string& display_root) {
  return in_root(root_fd, path, display_root);
}

Result<UniqueFd> make_dirs_in_root(int root_fd, const std::string& path,
                                   const std::string& display_root) {
  auto first = in_root(root_fd, "/", display_root);
  if (!first.ok()) return std::move(first).error();
  UniqueFd cur = std::move(*first);
  std::string prefix;
  for (const std::string& part : split_components(path)) {
    prefix += "/" + part;
    auto next = in_root(root_fd, prefix, display_root);
    if (next.ok()) {
      cur = std::move(*next);
      continue;
    }
    if (next.error().sys_errno != ENOENT) return std::move(next).error();
    // Missing: create it in the directory its parent resolved to. EEXIST
    // means the name is a dangling symlink (or appeared meanwhile): refused,
    // never followed to create its target.
    if (::mkdirat(cur.get(), part.c_str(), 0755) != 0) {
      if (errno == EEXIST)
        return bad_input(display_root + prefix +
                         ": a symlink to a missing directory (or a race): create its target in the "
                         "staging rootfs or choose another --hardlink-dir");
      return sys_error("mkdir " + display_root + prefix);
    }
    UniqueFd fd(::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return sys_error("open " + display_root + prefix);
    cur = std::move(fd);
  }
  return cur;
}

std::string host_path_of(int fd) {
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) return link;
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace nestbox::composer
