#include "util/open_in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
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

}  // namespace nestbox
