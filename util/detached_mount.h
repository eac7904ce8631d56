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
  // A new mount of `fstype` (no source, no options), nosuid, nodev, noexec:
  // fsmount, or on kernels without the mount API (before 5.2) the way
  // in_private_namespace does it.
  static Result<DetachedMount> create(const char* fstype);
  // A child process in a mount namespace of its own (propagation private)
  // mounts `fstype` on /sys/fs/cgroup there and hands back a descriptor of
  // the mount's root; when the child exits its namespace goes and the mount
  // with it from every tree, reachable only through that descriptor.
  static Result<DetachedMount> in_private_namespace(const char* fstype);

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
