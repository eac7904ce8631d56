// The baked mount kind of a manifest's storage kind: stated here once for
// policy/bake.cc (which bakes it) and validate (which checks the host paths
// each kind takes, policy/host_sources.h).
#pragma once

#include "manifests/model.h"
#include "policy/policy.h"

namespace nestbox::manifests {

constexpr policy::MountKind mount_kind(StorageKind k) {
  switch (k) {
    case StorageKind::kDirectory: return policy::MountKind::kStorageDir;
    case StorageKind::kImage: return policy::MountKind::kStorageImage;
    case StorageKind::kPartition: return policy::MountKind::kStoragePartition;
    case StorageKind::kOverlay: return policy::MountKind::kStorageOverlay;
  }
  return policy::MountKind::kStorageDir;
}

}  // namespace nestbox::manifests
