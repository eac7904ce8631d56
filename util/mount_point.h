// One mount this process made, detached (umount2 MNT_DETACH) when its owner
// goes: the owner type for mounts made outside a namespace that would take
// them away (plan's measurements, tests). Target-safe: libc only.
#pragma once

#include <string>

#include "util/result.h"

namespace nestbox {

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
