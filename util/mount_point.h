// One mount this process made, unmounted when its owner goes: the owner type
// for mounts made outside a namespace that would take them away (plan's
// measurements, tests). Target-safe: libc only.
#pragma once

#include <string>

#include "util/result.h"

namespace nestbox {

// Unmounts the top mount on `target`: at once when nothing uses it, so its
// superblock and the loop device under it are released before this returns;
// detached (MNT_DETACH) when busy. A detach is released later, by the kernel
// (6.15 on even defers the release of an idle detached mount), so a caller
// that then counts loop devices, or removes the dm device under them, could
// otherwise still see them. A symlink at `target` is not followed. Returns
// false when nothing was mounted there (or `target` is a symlink).
bool unmount_now_or_detach(const std::string& target);

class MountPoint {
 public:
  // mount(2) of `source` on the existing directory `target`.
  static Result<MountPoint> mount(const std::string& source, const std::string& target,
                                  const char* type, unsigned long flags, const std::string& data);
  MountPoint(MountPoint&& other) noexcept : target_(std::move(other.target_)) { other.target_.clear(); }
  MountPoint& operator=(MountPoint&& other) noexcept;
  MountPoint(const MountPoint&) = delete;
  MountPoint& operator=(const MountPoint&) = delete;
  ~MountPoint() { release(); }

  const std::string& target() const { return target_; }

 private:
  explicit MountPoint(std::string target) : target_(std::move(target)) {}
  void release();
  std::string target_;  // "" once released or moved from
};

}  // namespace nestbox
