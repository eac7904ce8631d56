// Writes the inode and directory tables of a squashfs image from an FsTree
// whose file data is already placed (DataWriter finished). Inodes are numbered
// and written in post-order (children before their directory, names sorted),
// so the output depends only on the tree. Hard-linked entries (hard_links.h)
// get one inode, written where the first of them comes in that order, and one
// directory entry each.
#pragma once

#include <sqfs/dir_writer.h>
#include <sqfs/id_table.h>
#include <sqfs/meta_writer.h>
#include <sqfs/xattr_writer.h>

#include <cstdint>
#include <vector>

#include "composer/fs_tree.h"
#include "composer/squashfs/data_writer.h"
#include "composer/squashfs/hard_links.h"
#include "composer/squashfs/tree_layout.h"
#include "util/result.h"

namespace nestbox::composer::squashfs {

struct MetaTables {
  FdFile* file = nullptr;
  sqfs_meta_writer_t* inodes = nullptr;
  sqfs_dir_writer_t* dirs = nullptr;
  sqfs_id_table_t* ids = nullptr;
  sqfs_xattr_writer_t* xattrs = nullptr;
};

struct InodeTableResult {
  uint64_t root_ref = 0;
  uint32_t inode_count = 0;
};

// `data_index[i]` is the DataWriter index of regular file entry i.
Result<InodeTableResult> write_inode_table(const FsTree& tree, const TreeLayout& layout,
                                           const InodeSharing& sharing,
                                           const std::vector<size_t>& data_index,
                                           const DataWriter& data, const MetaTables& t);

}  // namespace nestbox::composer::squashfs
