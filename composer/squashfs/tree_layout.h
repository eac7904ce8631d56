// Checks an FsTree against the FsTree invariants and squashfs limits, and
// derives the directory structure the inode and directory tables need.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "composer/fs_tree.h"
#include "util/result.h"

namespace nestbox::composer::squashfs {

struct TreeLayout {
  std::vector<std::vector<size_t>> children;  // per entry, sorted by name
  std::vector<std::string> names;             // last path component ("" for root)
};

// Bad input (naming the entry) for: a missing or non-directory root, unsorted
// or duplicate paths, a missing parent, a name over 256 bytes, a regular file
// over `max_file_size` (0 = the squashfs limit), a symlink target over 4095 bytes.
Result<TreeLayout> make_tree_layout(const FsTree& tree, uint32_t block_size,
                                    uint64_t max_file_size);

// The largest regular file a squashfs image with `block_size` can describe:
// an inode lists one 32-bit size per block, in at most 2^32-1 payload bytes.
uint64_t squashfs_max_file_size(uint32_t block_size);

}  // namespace nestbox::composer::squashfs
