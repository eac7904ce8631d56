// The `overlay` strategy: one shared base tree plus one layer per container,
// so that overlay(lowerdir = layer:base) shows exactly the container's tree.
//
// Base (automatic): every non-directory entry identical (path, type, mode,
// owner, mtime, xattrs, content/target/device) in at least `min_share`
// containers, with its ancestor directories. A layer holds the container's
// entries that the base lacks or has differently, their ancestors, and an
// overlayfs whiteout (char device 0:0) for each topmost base path the
// container does not have.
#pragma once

#include <vector>

#include "composer/fs_tree.h"
#include "util/result.h"

namespace nestbox::composer::squashfs {

struct OverlaySplit {
  FsTree base;
  std::vector<FsTree> layers;  // one per container, same order
};

Result<OverlaySplit> split_overlay(const std::vector<const FsTree*>& containers,
                                   unsigned min_share = 2);

// Layers against a given (named) base tree.
Result<OverlaySplit> split_overlay_with_base(const FsTree& base,
                                             const std::vector<const FsTree*>& containers);

// Same path, type and every attribute an image stores.
bool same_entry(const FsEntry& a, const FsEntry& b);

}  // namespace nestbox::composer::squashfs
