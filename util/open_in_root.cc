#include "util/open_in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace nestbox {

UniqueFd open_confined(int dir_fd, const std::string& path, int flags, Confine confine) {
  if (path.empty()) {
    errno = ENOENT;
    return UniqueFd();
  }
  size_t skip = path.find_first_not_of('/');
  std::string rel = skip == std::string::npos ? "." : path.substr(skip);
  open_how how{};
  how.flags = static_cast<__u64>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_NO_MAGICLINKS |
                (confine == Confine::kInRoot ? RESOLVE_IN_ROOT : RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
  long fd = ::syscall(SYS_openat2, dir_fd, rel.c_str(), &how, sizeof how);
  return UniqueFd(fd < 0 ? -1 : static_cast<int>(fd));
}

UniqueFd open_dirs_no_symlinks(int dir_fd, const std::string& relative, bool create, size_t* failed_end, mode_t mode) {
  UniqueFd cur(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  for (size_t pos = 0; cur && pos < relative.size();) {
    size_t end = relative.find('/', pos);
    if (end == std::string::npos) end = relative.size();
    std::string part = relative.substr(pos, end - pos);
    if (part.empty()) {  // "a//b"
      pos = end + 1;
      continue;
    }
    if (part == "." || part == "..") {
      if (failed_end) *failed_end = end;
      errno = EINVAL;
      return UniqueFd();
    }
    if (create && ::mkdirat(cur.get(), part.c_str(), mode) != 0 && errno != EEXIST) {
      if (failed_end) *failed_end = end;
      return UniqueFd();
    }
    UniqueFd next(::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      if (failed_end) *failed_end = end;
      return UniqueFd();
    }
    cur = std::move(next);
    pos = end + 1;
  }
  return cur;
}

UniqueFd open_path_no_symlinks(const std::string& path, bool create, size_t* failed_end, mode_t mode) {
  if (path.empty()) {
    errno = ENOENT;
    return UniqueFd();
  }
  bool absolute = path[0] == '/';
  UniqueFd base(::open(absolute ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!base) {
    if (failed_end) *failed_end = 0;
    return UniqueFd();
  }
  size_t skip = absolute ? 1 : 0;
  UniqueFd fd = open_dirs_no_symlinks(base.get(), path.substr(skip), create, failed_end, mode);
  if (!fd && failed_end) *failed_end += skip;
  return fd;
}

}  // namespace nestbox
