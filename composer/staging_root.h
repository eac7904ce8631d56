// Paths inside a host staging rootfs (the firmware's staged root file
// system, e.g. OpenWrt's build_dir/target-*/root-*). Such a root holds
// symlinks meant for the target — OpenWrt's base-files ships `var -> /tmp` —
// so a string join like STAGING + "/var/lib/x" follows them on the build host
// and lands outside the root (in the host's /tmp). Every path here is
// resolved inside the root with openat2(RESOLVE_IN_ROOT): an absolute symlink
// or ".." is taken relative to the staging root, exactly as the target will
// see it once the rootfs is its "/". Writes then go through the resolved
// directory fd, so a symlink swapped in afterwards cannot redirect them.
#pragma once

#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace nestbox::composer {

// Where host-hardlink container trees go inside the staging rootfs unless
// configured (compose/sign --hardlink-dir): in the firmware's persistent
// (read-only) root filesystem. Not under /var, which OpenWrt mounts as tmpfs.
inline constexpr const char* kDefaultHardlinkDir = "/usr/lib/nestbox/rootfs";

// compose records the host-hardlink directory of each such container in
// <out>/runtime/<name>/<kHardlinkDirRecord> (one line) for `sign --composed`.
inline constexpr const char* kHardlinkDirRecord = "hardlink-dir";

// compose --root-owned records how the firmware packs the staging rootfs in
// <out>/runtime/<name>/<kPackingRecord>: "root-owned" (one line) when every
// file of the packed rootfs is owned by 0:0, as OpenWrt's
// `mksquashfs -root-owned` makes them. `sign --composed` then signs the
// tree's manifest with owner 0:0, i.e. what the device will see, not the
// build user's uid/gid of the staging directory.
inline constexpr const char* kPackingRecord = "packing";
inline constexpr const char* kPackingRootOwned = "root-owned";

// A --hardlink-dir value: absolute, normalised ("/a/b", no ".", "..", "//",
// trailing "/"), not "/" itself.
Result<std::string> validate_hardlink_dir(const std::string& dir);

// Opens the staging root itself (O_PATH directory fd).
Result<UniqueFd> open_staging_root(const std::string& staging);

// Opens `path` (absolute, inside the root) resolved in the root, as a
// directory fd usable for *at() calls and fsync.
Result<UniqueFd> open_dir_in_root(int root_fd, const std::string& path,
                                  const std::string& display_root);

// Like open_dir_in_root, creating missing directories (mode 0755) one by one
// with mkdirat beneath the in-root resolution of their parent. A dangling
// symlink on the way is refused (naming it) rather than followed.
Result<UniqueFd> make_dirs_in_root(int root_fd, const std::string& path,
                                   const std::string& display_root);

// Where an fd's file is on the host ("/proc/self/fd/N" read back), for
// messages and the commit journal.
std::string host_path_of(int fd);

}  // namespace nestbox::composer
