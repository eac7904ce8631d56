// Selection: from a container's merged sources to its FsTree. Takes what the
// include globs match (everything when there are neither includes nor
// binaries), removes what the exclude globs match, then adds the ELF closure
// of `binaries` and the manifest's own extras (neither is subject to
// exclude), and every parent directory. Finally clamps mtimes to
// SOURCE_DATE_EPOCH and shifts owners for user-namespace containers.
//
// Globs are absolute: `*`, `?` and `[...]` match within one path component,
// a `**` component matches any number of components (zero included); a glob
// matching a directory selects its whole subtree.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "composer/fs_tree.h"
#include "composer/source_tree.h"
#include "manifests/model.h"

namespace nestbox::composer {

bool glob_match(const std::string& pattern, const std::string& path);

// Why a path is in the tree (or left out): "matches include \"/bin/**\"",
// "libc.so.6 needed by /bin/busybox (found via default)", ... For compose -v.
using ExplainFn = std::function<void(const std::string& path, const std::string& why)>;

struct SelectOptions {
  std::optional<int64_t> source_date_epoch;  // clamp mtimes to it when set
  bool all_time = false;  // with source_date_epoch: every mtime is it (mksquashfs -all-time)
  ExplainFn explain;  // when set: called for every path taken, in tree order, and every one excluded
};

// `m` gives rootfs.include/exclude/binaries and users (ownership shift).
Result<FsTree> select_tree(const SourceTree& src, const manifests::Manifest& m,
                           const SelectOptions& opts);

// Maps an id through `map` (inside -> outside); nullopt when unmapped.
std::optional<uint32_t> map_id(const std::vector<manifests::IdMapRange>& map, uint32_t id);

}  // namespace nestbox::composer
