// An FsTree from a directory on the host (the composer's host walk,
// composer/host_walk.h: name by name below directories held open, nothing
// followed; names sorted, all xattrs, XXH3-128 content hashes read through
// the inode the walk recorded). For the `nestbox squash` command,
// tests and benchmarks; manifests get their trees from the composer proper.
#pragma once

#include <optional>
#include <string>

#include "composer/fs_tree.h"
#include "util/result.h"

namespace nestbox::composer::squashfs {

struct DirectoryScanOptions {
  bool hash = true;                     // fill FsEntry::hash (XXH3-128 of content)
  std::optional<int64_t> clamp_mtime;   // the front end passes SOURCE_DATE_EPOCH
  bool all_time = false;                // every mtime = clamp_mtime (mksquashfs -all-time), not only later ones
};

Result<FsTree> fs_tree_from_directory(const std::string& dir,
                                      const DirectoryScanOptions& opts = {});

// XXH3-128 of a file's content.
Result<ContentHash> hash_file(const std::string& path);

}  // namespace nestbox::composer::squashfs
