#include "policy/mount_targets.h"

namespace nestbox::policy {

void add_mount_target(MountKind kind, const std::string& target, bool read_only, size_t mount,
                      std::vector<HostSource>& out) {
  bool kept = false;
  switch (kind) {
    case MountKind::kTmpfs: break;  // empty at every start
    case MountKind::kBind: kept = !read_only; break;
    case MountKind::kStorageDir:
    case MountKind::kStorageImage:
    case MountKind::kStoragePartition: kept = true; break;
    case MountKind::kStorageOverlay: kept = target != "/"; break;
  }
  out.push_back({target, kept, mount});
}

std::optional<std::pair<HostSource, HostSource>> target_below_kept(const std::vector<Mount>& mounts,
                                                                   const std::string& ubus_target) {
  std::vector<HostSource> targets;
  for (size_t i = 0; i < mounts.size(); ++i)
    add_mount_target(mounts[i].kind, mounts[i].target, (mounts[i].flags & kMountReadOnly) != 0, i, targets);
  if (!ubus_target.empty()) targets.push_back({ubus_target, false, mounts.size()});
  return source_below_writable(targets);
}

}  // namespace nestbox::policy
