#include "launcher/rootpath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "util/open_in_root.h"

namespace nestbox::launcher {
namespace {

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Pre-5.6 kernels: walk one component at a time, refusing symlinks and "..".
Result<UniqueFd> walk(int root_fd, const std::string& path, int flags) {
  UniqueFd cur(::openat(root_fd, ".", O_PATH | O_CLOEXEC | O_DIRECTORY));
  if (!cur) return sys_error("open root");
  std::vector<std::string> parts = components(path);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "..") return bad_input(path + ": '..' is not allowed");
    bool last = i + 1 == parts.size();
    int f = last ? (flags | O_NOFOLLOW) : (O_PATH | O_DIRECTORY | O_NOFOLLOW);
    UniqueFd next(::openat(cur.get(), parts[i].c_str(), f | O_CLOEXEC));
    if (!next) return sys_error(path);
    cur = std::move(next);
  }
  return cur;
}

}  // namespace

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags) {
  if (path.empty() || path[0] != '/') return bad_input(path + ": not an absolute path");
  UniqueFd fd = open_confined(root_fd, path, flags, Confine::kInRoot);
  if (fd) return fd;
  if (errno == ENOSYS) return walk(root_fd, path, flags);
  return sys_error(path);
}

Result<UniqueFd> mkdirs_in_root(int root_fd, const std::string& path, unsigned mode) {
  std::string prefix;
  for (const std::string& part : components(path)) {
    prefix += "/" + part;
    auto fd = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
    if (fd.ok()) continue;
    if (fd.error().sys_errno != ENOENT) return std::move(fd).error();
    auto parent = open_in_root(root_fd, prefix.substr(0, prefix.size() - part.size()),
                               O_PATH | O_DIRECTORY);
    if (!parent.ok()) return std::move(parent).error();
    // mkdirat() needs a real directory fd, not O_PATH.
    UniqueFd dir(::openat(parent->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return sys_error("open " + prefix);
    if (::mkdirat(dir.get(), part.c_str(), mode) != 0 && errno != EEXIST)
      return sys_error("mkdir " + prefix);
  }
  return open_in_root(root_fd, path, O_PATH | O_DIRECTORY);
}

}  // namespace nestbox::launcher
