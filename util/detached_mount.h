// A filesystem mounted nowhere: fsopen + fsconfig + fsmount give a mount that
// is in no mount namespace, reachable only through its descriptor (and
// paths below /proc/self/fd/N in this process). Nobody else sees it; closing
// the descriptor unmounts it. Target-safe: libc only (Linux 5.2).
#pragma once

#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace nestbox {

class DetachedMount {
 public:
  // A new mount of `fstype` (no source, no options), nosuid, nodev, noexec.
  // Fails on kernels without the mount API (ENOSYS) like any other failure.
  static Result<DetachedMount> create(const char* fstype);

  DetachedMount(DetachedMount&&) noexcept = default;
  DetachedMount& operator=(DetachedMount&&) noexcept = default;

  int fd() const { return fd_.get(); }
  // "/proc/self/fd/N": the mount's root for path calls made by this process.
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_.get()); }

 private:
  explicit DetachedMount(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace nestbox
