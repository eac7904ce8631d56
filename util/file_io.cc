#include "util/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "util/fd.h"
#include "util/open_regular.h"

namespace nestbox {

namespace {

// Reads to the end, or fails once more than `max_bytes` came.
Result<std::string> read_all(int fd, const std::string& path, size_t max_bytes = SIZE_MAX) {
  std::string out;
  char buf[65536];
  for (;;) {
    if (out.size() > max_bytes)
      return bad_input(path + ": larger than " + std::to_string(max_bytes) + " bytes: refused");
    // One byte past the bound tells "longer" from "exactly max_bytes".
    size_t room = max_bytes - out.size();
    size_t want = room >= sizeof buf ? sizeof buf : room + 1;
    ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  // A device node or FIFO named here (a manifest, kernel config or record
  // that is a symlink to /dev/zero, /dev/watchdog, a FIFO) is refused before
  // its driver's open runs; a regular file is read up to the bound only.
  auto opened = open_regular_at(AT_FDCWD, path, O_RDONLY | O_NONBLOCK, /*follow=*/true);
  if (!opened.ok()) {
    Error e = std::move(opened).error();
    if (e.sys_errno != 0) return sys_error("open " + path, e.sys_errno);
    return bad_input(path + ": " + e.message + "; expected a regular file");
  }
  UniqueFd fd = std::move(*opened);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + path);
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return bad_input(path + ": " + std::to_string(st.st_size) + " bytes; expected at most " +
                     std::to_string(max_bytes));
  return read_all(fd.get(), path, max_bytes);
}

Result<std::string> read_regular_file(const std::string& path, int dirfd, const std::string& shown,
                                      size_t max_bytes) {
  static_assert(AT_FDCWD == -100);
  const std::string& name = shown.empty() ? path : shown;
  // Never opens a device node or FIFO planted there (util/open_regular.h).
  auto opened = open_regular_at(dirfd, path, O_RDONLY | O_NONBLOCK);
  if (!opened.ok()) {
    Error e = std::move(opened).error();
    if (e.sys_errno != 0 && e.sys_errno != ELOOP) return sys_error("open " + name, e.sys_errno);
    return std::move(e.context(name));
  }
  UniqueFd fd = std::move(*opened);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + name);
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return bad_input(name + ": larger than " + std::to_string(max_bytes) + " bytes: refused");
  return read_all(fd.get(), name, max_bytes);
}

Status write_all(int fd, const void* data, size_t size, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write " + what);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return ok_status();
}

Status pwrite_all(int fd, const void* data, size_t size, uint64_t offset, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::pwrite(fd, p, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write " + what);
    }
    p += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
  return ok_status();
}

Status pread_exact(int fd, void* data, size_t size, uint64_t offset, const std::string& what) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read " + what);
    }
    if (n == 0) return failure("read " + what + ": the file ends " + std::to_string(size) + " bytes early");
    p += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<size_t>(n);
  }
  return ok_status();
}

Status write_file_atomic(const std::string& path, const std::string& data, unsigned mode) {
  return write_file_atomic_at(AT_FDCWD, path, data, mode, path);
}

Status write_file_atomic_at(int dirfd, const std::string& name, const std::string& data, unsigned mode,
                            const std::string& shown) {
  std::string suffix = ".tmp." + std::to_string(::getpid());
  std::string tmp = name + suffix, tmp_shown = shown + suffix;
  // The name is predictable: whatever is there (a crashed run's file, or a
  // symlink planted to make this write elsewhere) is removed, never followed,
  // and the file is created anew or not at all.
  ::unlinkat(dirfd, tmp.c_str(), 0);
  UniqueFd fd(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) return sys_error("create " + tmp_shown);
  Status st = write_all(fd.get(), data.data(), data.size(), tmp_shown);
  // The mode before the fsync: what the rename publishes is on disk whole.
  if (st.ok() && ::fchmod(fd.get(), mode) != 0) st = sys_error("chmod " + tmp_shown);
  if (st.ok() && ::fsync(fd.get()) != 0) st = sys_error("fsync " + tmp_shown);
  fd.reset();
  if (st.ok() && ::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0)
    st = sys_error("rename " + tmp_shown + " to " + shown);
  if (!st.ok()) ::unlinkat(dirfd, tmp.c_str(), 0);
  return st;
}

Status make_dirs(const std::string& path, unsigned mode) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    std::string dir = path.substr(0, i);
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return sys_error("mkdir " + dir);
  }
  return ok_status();
}

}  // namespace nestbox
