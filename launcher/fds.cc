#include "launcher/fds.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <vector>

namespace nestbox::launcher {
namespace {

#ifndef CLOSE_RANGE_CLOEXEC
constexpr unsigned CLOSE_RANGE_CLOEXEC = 1u << 2;
#endif

bool set_cloexec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0) return errno == EBADF;  // not open: nothing to leak
  return (flags & FD_CLOEXEC) || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0;
}

bool close_fd(int fd) { return ::close(fd) == 0 || errno == EBADF || errno == EINTR; }

// /proc/self/fd lists exactly the open descriptors (after pivot_root the
// container's /proc shows the same process). Listed first, acted on after.
bool walk_proc(bool (*act)(int)) {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return false;
  std::vector<int> fds;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') fds.push_back(std::atoi(e->d_name));
  int own = ::dirfd(d);
  ::closedir(d);
  bool ok = true;
  for (int fd : fds)
    if (fd > 2 && fd != own && !act(fd)) ok = false;
  return ok;
}

// Neither close_range nor /proc: every possible number, bounded so that an
// unlimited RLIMIT_NOFILE cannot make this loop forever.
Status every_number(bool (*act)(int)) {
  rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return sys_error("getrlimit RLIMIT_NOFILE");
  rlim_t top = lim.rlim_max == RLIM_INFINITY || lim.rlim_max > (1u << 20) ? (1u << 20) : lim.rlim_max;
  for (rlim_t fd = 3; fd < top; ++fd)
    if (!act(static_cast<int>(fd))) return sys_error("descriptor " + std::to_string(fd));
  return {};
}

constexpr const char* kStdioNames[3] = {"standard input", "standard output", "standard error"};

// /dev/null opened onto the lowest free number, which must be `fd`; checked
// to be the real null device (1:3), not whatever a tampered /dev holds.
Status fill_with_null(int fd) {
  int got = ::open("/dev/null", O_RDWR | O_NOCTTY);
  if (got < 0) return sys_error("open /dev/null for the closed " + std::string(kStdioNames[fd]));
  struct stat st;
  bool is_null = ::fstat(got, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
  if (got != fd || !is_null) {
    ::close(got);
    return failure(std::string(kStdioNames[fd]) + " is closed and /dev/null could not take its place");
  }
  return {};
}

}  // namespace

Status secure_stdio() {
  for (int fd = 0; fd < 3; ++fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) {
      if (errno != EBADF) return sys_error(std::string("check ") + kStdioNames[fd]);
      NESTBOX_TRY(fill_with_null(fd));
      continue;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) return sys_error(std::string("check ") + kStdioNames[fd]);
    if (S_ISDIR(st.st_mode) || (flags & O_PATH) == O_PATH)
      return bad_input(std::string(kStdioNames[fd]) + " (descriptor " + std::to_string(fd) + ") is " +
                       (S_ISDIR(st.st_mode) ? "a directory" : "an O_PATH handle") +
                       ": a container must not inherit a handle on the host's files");
  }
  return {};
}

Status cloexec_all_above_stdio() {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) == 0) return {};
#endif
  if (walk_proc(set_cloexec)) return {};
  return every_number(set_cloexec);
}

Status close_all_above_stdio_except(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned from = 3;
  bool ranges = true;
  for (size_t i = 0; i <= keep.size() && ranges; ++i) {
    unsigned to = i < keep.size() ? static_cast<unsigned>(keep[i]) : ~0u;
    if (i < keep.size() && keep[i] < 3) continue;
    if (to > from) {
#ifdef SYS_close_range
      ranges = ::syscall(SYS_close_range, from, i < keep.size() ? to - 1 : to, 0u) == 0;
#else
      ranges = false;
#endif
    }
    if (i < keep.size()) from = to + 1;
  }
  if (ranges) return {};
  // No close_range: every open descriptor (or number) not kept.
  DIR* d = ::opendir("/proc/self/fd");
  std::vector<int> open;
  if (d) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9') open.push_back(std::atoi(e->d_name));
    int own = ::dirfd(d);
    ::closedir(d);
    open.erase(std::remove(open.begin(), open.end(), own), open.end());
  } else {
    rlimit lim;
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return sys_error("getrlimit RLIMIT_NOFILE");
    rlim_t top = lim.rlim_max == RLIM_INFINITY || lim.rlim_max > (1u << 20) ? (1u << 20) : lim.rlim_max;
    for (rlim_t fd = 3; fd < top; ++fd) open.push_back(static_cast<int>(fd));
  }
  for (int fd : open)
    if (fd > 2 && !std::binary_search(keep.begin(), keep.end(), fd) && !close_fd(fd))
      return sys_error("close descriptor " + std::to_string(fd));
  return {};
}

Status close_all_above_stdio() {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, 3u, ~0u, 0u) == 0) return {};
#endif
  if (walk_proc(close_fd)) return {};
  return every_number(close_fd);
}

}  // namespace nestbox::launcher
