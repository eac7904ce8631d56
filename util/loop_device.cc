#include "util/loop_device.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "util/open_regular.h"

namespace nestbox {
namespace {

#ifndef LOOP_CONFIGURE
#define LOOP_CONFIGURE 0x4C0A
struct loop_config {
  __u32 fd;
  __u32 block_size;
  struct loop_info64 info;
  __u64 __reserved[8];
};
#endif

loop_info64 make_info(const LoopRequest& r) {
  loop_info64 info;
  std::memset(&info, 0, sizeof info);
  info.lo_offset = r.offset;
  info.lo_sizelimit = r.size;
  info.lo_flags = LO_FLAGS_AUTOCLEAR | (r.read_only ? LO_FLAGS_READ_ONLY : 0);
  std::strncpy(reinterpret_cast<char*>(info.lo_file_name), r.file.c_str(), LO_NAME_SIZE - 1);
  return info;
}

// Returns 0, or the errno of the failed ioctl. EBUSY: someone else took the device.
int configure(int loop_fd, int file_fd, const LoopRequest& r) {
  if (!r.legacy) {
    loop_config config;
    std::memset(&config, 0, sizeof config);
    config.fd = static_cast<__u32>(file_fd);
    config.info = make_info(r);
    if (::ioctl(loop_fd, LOOP_CONFIGURE, &config) == 0) return 0;
    if (errno != EINVAL && errno != ENOTTY) return errno;
  }
  // Kernels before 5.8: two steps, with a window in which the device is unbounded.
  if (::ioctl(loop_fd, LOOP_SET_FD, file_fd) != 0) return errno;
  loop_info64 info = make_info(r);
  if (::ioctl(loop_fd, LOOP_SET_STATUS64, &info) != 0) {
    int err = errno;
    ::ioctl(loop_fd, LOOP_CLR_FD, 0);
    return err;
  }
  return 0;
}

}  // namespace

Result<UniqueFd> open_backing_file(const std::string& path, bool read_only) {
  // A device node or FIFO at `path` is refused without being opened
  // (util/open_regular.h): a driver's open has effects.
  auto fd = open_regular_at(AT_FDCWD, path, (read_only ? O_RDONLY : O_RDWR) | O_NONBLOCK);
  if (fd.ok()) return fd;
  Error e = std::move(fd).error();
  if (e.sys_errno == ELOOP) return bad_input("open " + path + ": a symbolic link: refused");
  if (e.sys_errno != 0) return sys_error("open " + path, e.sys_errno);
  return bad_input(path + ": not a regular file");
}

Result<LoopDevice> LoopDevice::attach(const LoopRequest& r) {
  int mode = r.read_only ? O_RDONLY : O_RDWR;
  UniqueFd opened;
  if (r.fd < 0) {
    auto f = open_backing_file(r.file, r.read_only);
    if (!f.ok()) return std::move(f).error();
    opened = std::move(*f);
  }
  const int file_fd = r.fd >= 0 ? r.fd : opened.get();
  UniqueFd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control) return sys_error("open /dev/loop-control");
  for (int attempt = 0; attempt < 16; ++attempt) {
    int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (n < 0) return sys_error("LOOP_CTL_GET_FREE");
    std::string path = "/dev/loop" + std::to_string(n);
    UniqueFd loop(::open(path.c_str(), mode | O_CLOEXEC));
    if (!loop) return sys_error("open " + path);
    int err = configure(loop.get(), file_fd, r);
    if (err == EBUSY) continue;  // raced with another user of the free device
    if (err) return sys_error("attach " + r.file + " to " + path, err);
    return LoopDevice(std::move(loop), std::move(path));
  }
  return failure("attach " + r.file + ": no free loop device after 16 attempts");
}

}  // namespace nestbox
