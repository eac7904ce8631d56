// Persistent storage: a host directory, a loop-mounted image file (created
// with its size and a filesystem on first use), a flash partition by name, or
// an overlay upper directory over a directory of the read-only rootfs.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "launcher/launcher.h"
#include "policy/policy.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

// The host ids of the container's root (uid/gid 0 inside): what storage that
// nestbox creates is owned by, so that root in a user namespace can write it.
struct HostOwner {
  uint32_t uid = 0, gid = 0;
  // Some id of the container is the host's uid 0 (no user namespace, or a
  // uid map sending any id, not only root's, to 0): a process reaching that
  // id (a setuid program, CAP_SETUID) writes storage as the host's root.
  bool host_root_reachable = false;
};
HostOwner container_root(const policy::Policy& policy);

// The host id of `id` inside the container through `map` (no map: no user
// namespace, the same id); an id the map does not cover is refused.
Result<uint32_t> host_id(const std::vector<policy::IdMap>& map, uint32_t id, const char* what);

// Gives a mounted storage entry's root the declared owner (ids inside the
// container, mapped to host ids) and mode, at every start: what a service
// user needs to write it, whatever the filesystem held before.
Status set_storage_owner(const policy::Mount& m, const policy::Policy& policy, int root_fd);

// A size is enforced only on a tmpfs and a storage image (its file's
// length): one on any other mount is a limit nothing would apply, refused
// (as the policy reader does; this launcher does not rely on it).
Status check_size_enforced(const policy::Mount& m);

// Mounts one storage entry (MountKind::kStorage*) onto m.target in the root.
Status mount_storage(const policy::Mount& m, const Options& options, HostOwner owner, int root_fd);

// mkdir -p on the host (0700 for directories nestbox creates), one
// component at a time from "/" without following a symlink (the path's
// directories are then opened by open_host_source, which refuses one: a
// symlink planted on the way must not get a directory made where it points
// first). The last component, if created here, is given to `owner`.
Status ensure_host_dir(const std::string& dir, HostOwner owner = {});

// A writable directory on the host that the container's root writes (a
// storage directory, an overlay's upper layer): when that root is the
// host's root (no user namespace, or any id mapped to host uid 0:
// HostOwner::host_root_reachable), whatever it leaves there is the host
// root's, a setuid-root program for the host's other users to run. Such a
// directory must lie below one that only root can enter (owned by root,
// not searchable by others; ensure_host_dir creates missing ones 0700).
Status check_host_storage_closed(const std::string& dir, HostOwner owner);

// A host path a mount takes (a bind's source, a storage directory), opened
// O_PATH without following a symlink anywhere on the way (each component
// O_NOFOLLOW from "/"). Another container's writable storage may lie on the
// way: running as the host's root, it can replace a directory there with a
// symlink (to /etc, /), and a launcher resolving the path would bind what
// the symlink names. A symlink is refused, naming where it was.
Result<UniqueFd> open_host_source(const std::string& path);

// Creates the storage image `path` (its last component, in the directory
// `dir_fd` holds, reached by open_host_source) of `size` bytes holding an
// empty `fstype` filesystem: a temporary file made there O_EXCL|O_NOFOLLOW,
// mkfs run on that fd, renamed into place without replacing anything.
// Nothing goes by the path: a directory on it swapped for a symlink after it
// was opened redirects nothing. Returns whether it was created (false: a
// file of that name exists; what it is is checked when it is opened).
Result<bool> ensure_image_file(int dir_fd, const std::string& path, uint64_t size, const std::string& fstype);

// A block device whose partition is labelled (GPT name: PARTNAME in sysfs).
struct LabelledBlockDevice {
  std::string name;  // as in /sys/class/block and /dev: "mmcblk0p3"
  dev_t dev;
};

// The block devices of `class_block` whose partition is labelled `name`,
// sorted by name.
std::vector<LabelledBlockDevice> block_devices_labelled(const std::string& name,
                                                const std::string& class_block = "/sys/class/block");

// The block device of a named partition: the one block device labelled so
// (/dev/NAME, checked to be that device), else <partition_dir>/<name> (a
// block device; the labelled one when there is one), else the MTD partition
// of that name (/proc/mtd → /dev/mtdblockN). Refused when more than one
// block device carries the label.
Result<std::string> find_partition(const std::string& name, const std::string& partition_dir,
                                   const std::string& class_block = "/sys/class/block");

}  // namespace nestbox::launcher
