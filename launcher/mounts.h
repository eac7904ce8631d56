// The container's filesystem view, assembled inside its new (private) mount
// namespace while the launcher still has host privileges:
//   mount_rootfs  squashfs | overlay(layer on base) | tree, plus an upper layer
//                 when the root is writable or has a persistent overlay
//   mount_inside  /proc (masked), /sys, minimal /dev, tmpfs, binds, storage
//   enter_root    read-only root, pivot_root, detach the old root
#pragma once

#include <string>

#include "launcher/launcher.h"
#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::launcher {

struct RootDevices {
  std::string work_dir;   // scratch mount points (lower0, lower1, upper)
  std::string root_dir;   // where the new root is assembled
  std::string image_dev;  // loop device of the image / overlay layer
  std::string base_dir;   // the overlay base's shared mount (launcher/shared_base.h), bound below the layer
};

Status mount_rootfs(const policy::Policy& policy, const RootfsSource& source,
                    const RootDevices& devices);
Status mount_inside(const policy::Policy& policy, const Options& options,
                    const std::string& root_dir);
Status enter_root(const policy::Policy& policy, const std::string& root_dir);

// MountFlags → MS_* flags.
unsigned long ms_flags(uint32_t mount_flags);

}  // namespace nestbox::launcher
