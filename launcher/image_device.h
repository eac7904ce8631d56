// The block device a container's image window is mounted from: a read-only
// loop device over the verified fd, and in verity mode (ImageWindow::verity)
// a dm-verity device over that loop device, named after the container so the
// next start removes one a killed launcher left behind. Libc only.
#pragma once

#include <optional>
#include <string>

#include "launcher/launcher.h"
#include "util/loop_device.h"
#include "util/dm_device.h"
#include "util/result.h"

namespace nestbox::launcher {

// "nestbox:NAME:ROLE" (role "rootfs" or "base"). ':' never occurs in a
// container name, so no two containers (or roles) share a device name.
std::string verity_device_name(const std::string& container, const std::string& role);

// Removes the dm-verity devices of `container` that a launcher killed before
// its destructors ran left behind (no-op on a kernel without device-mapper).
// The caller holds the container's state lock and has killed its processes.
void remove_stale_verity(const std::string& container);

class ImageDevice {
 public:
  static Result<ImageDevice> attach(const ImageWindow& window, const std::string& container, const std::string& role,
                                    bool legacy_loop);
  // The device node to mount (/dev/loopN, or /dev/dm-N in verity mode).
  const std::string& node() const { return node_; }
  bool verity() const { return dm_.has_value(); }
  // Closes the loop device fd: the mount (autoclear) or the dm device holds it.
  void release_loop() { loop_.reset(); }
  // Leaves the dm-verity device in place when this object goes (a shared
  // base mount holds it; launcher/shared_base.h removes it by name).
  void disown_verity() {
    if (dm_) dm_->disown();
  }
  // dm-verity has refused a block (status "C"); false without dm-verity.
  bool corrupted() const { return dm_ && dm_->corrupted(); }

 private:
  std::optional<LoopDevice> loop_;
  std::optional<dm::DmDevice> dm_;  // destroyed (removed) first, then the loop fd
  std::string node_;
};

}  // namespace nestbox::launcher
