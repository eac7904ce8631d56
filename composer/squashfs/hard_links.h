// Which entries of an FsTree share one squashfs inode: hard links of the
// source (FsEntry::link_id) stay hard links in the image, one inode with
// nlink > 1, as mksquashfs keeps them. Entries are joined only when they are
// indistinguishable as inodes (type, mode, owners, mtime, xattrs, content or
// target or device number): an entry whose metadata a policy changed (a
// stripped setuid bit, a dropped capability) gets an inode of its own rather
// than lending its metadata to the other names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "composer/fs_tree.h"

namespace nestbox::composer::squashfs {

struct InodeSharing {
  std::vector<size_t> leader;   // per entry: the first entry (path order) of its inode
  std::vector<uint32_t> nlink;  // per entry: names of its inode (1 unless linked)
};

InodeSharing share_inodes(const FsTree& tree);

}  // namespace nestbox::composer::squashfs
