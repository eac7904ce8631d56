#include "util/mount_point.h"

#include <errno.h>
#include <sys/mount.h>

namespace nestbox {

bool unmount_now_or_detach(const std::string& target) {
  // Never through a symlink: a link planted at `target` must not make this
  // unmount whatever it points to.
  if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return true;
  return errno == EBUSY && ::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0;
}

Result<MountPoint> MountPoint::mount(const std::string& source, const std::string& target,
                                     const char* type, unsigned long flags, const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
    return sys_error(std::string("mount ") + type + " " + source + " on " + target);
  return MountPoint(target);
}

MountPoint& MountPoint::operator=(MountPoint&& other) noexcept {
  if (this != &other) {
    release();
    target_ = std::move(other.target_);
    other.target_.clear();
  }
  return *this;
}

void MountPoint::release() {
  if (!target_.empty()) unmount_now_or_detach(target_);
  target_.clear();
}

}  // namespace nestbox
