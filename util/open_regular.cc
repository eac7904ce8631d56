#include "util/open_regular.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace nestbox {

Result<UniqueFd> open_regular_at(int dir_fd, const std::string& name, int flags, bool follow) {
  // O_PATH | O_NOFOLLOW: the symlink itself, a device or a FIFO is looked
  // up, not opened (no driver's open runs, no FIFO waits for a writer).
  const int nofollow = follow ? 0 : O_NOFOLLOW;
  UniqueFd path_fd(::openat(dir_fd, name.c_str(), O_PATH | nofollow | O_CLOEXEC));
  if (!path_fd) return sys_error("open");
  struct stat st;
  if (::fstat(path_fd.get(), &st) != 0) return sys_error("stat");
  if (S_ISLNK(st.st_mode)) {
    Error e = bad_input("a symbolic link: refused");
    e.sys_errno = ELOOP;
    return e;
  }
  if (!S_ISREG(st.st_mode)) return bad_input("not a regular file");
  // The inode just checked, opened for I/O: a name swapped for a device
  // since is not looked up again.
  std::string self = "/proc/self/fd/" + std::to_string(path_fd.get());
  UniqueFd fd(::open(self.c_str(), flags | O_CLOEXEC | O_NOCTTY));
  if (!fd && errno == ENOENT) {
    // No /proc (early boot, a bare chroot): open by name, O_NOFOLLOW and
    // O_NONBLOCK, and insist it is the inode that was checked. Only a writer
    // of the directory could swap it in between.
    fd.reset(::openat(dir_fd, name.c_str(), flags | nofollow | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) return sys_error("open");
    struct stat now;
    if (::fstat(fd.get(), &now) != 0) return sys_error("stat");
    if (now.st_dev != st.st_dev || now.st_ino != st.st_ino) return bad_input("replaced while it was opened: refused");
  }
  if (!fd) return sys_error("open");
  return fd;
}

}  // namespace nestbox
