// Loop devices: attach a byte window of an image file, read-only by default,
// with autoclear so the kernel detaches the device when its last user (the
// mount) goes away. Owned by LoopDevice: closing it before anything mounted
// the device detaches it.
#pragma once

#include <cstdint>
#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace nestbox {

struct LoopRequest {
  std::string file;               // names the file in messages (and opens it when fd < 0)
  uint64_t offset = 0, size = 0;  // size 0: to the end of the file
  bool read_only = true;
  bool legacy = false;  // use LOOP_SET_FD + LOOP_SET_STATUS64 even if LOOP_CONFIGURE exists
  // The open file to back the device (borrowed): a verified image is attached
  // through the fd it was verified from, so a rename over `file` in between
  // changes nothing. -1: open `file` here (O_NOFOLLOW | O_NONBLOCK, a regular
  // file only), for files nobody verified (storage images, tests).
  int fd = -1;
};

// Opens `path` for a loop device: O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, and a
// regular file only (a FIFO, device or symlink is refused, never waited on).
Result<UniqueFd> open_backing_file(const std::string& path, bool read_only);

class LoopDevice {
 public:
  static Result<LoopDevice> attach(const LoopRequest& request);

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

 private:
  LoopDevice(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

}  // namespace nestbox
