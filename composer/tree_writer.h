// Writes FsTrees to disk: directories, files, symlinks, device nodes and
// fifos with their owners, modes, xattrs and mtimes. Used by the `tree`
// strategy (standalone trees, identical files hardlinked across containers)
// and by `host-hardlink` (files hardlinked to the host staging rootfs).
//
// Safety: everything is created beneath a directory fd the writer made,
// parents are opened with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS and files
// with O_EXCL | O_NOFOLLOW, so no entry can land outside the output.
//
// Hardlinks share one inode, so two entries are only linked when content,
// owner, mode, xattrs and mtime all agree; otherwise the file is copied and
// the report says why.
#pragma once

#include <map>
#include <string>
#include <tuple>

#include "composer/compose.h"

namespace nestbox::composer {

// Links written files by (content, metadata) across trees of one run.
class LinkPool {
 public:
  struct Key {
    uint32_t content;
    uint32_t uid, gid, mode;
    int64_t mtime;
    std::vector<Xattr> xattrs;
    auto operator<=>(const Key&) const = default;
  };
  std::map<Key, std::string> by_key;                  // -> host path of the first copy
  std::map<uint32_t, std::string> first_by_content;   // content -> "container:path"
  std::map<uint32_t, Key> first_key;                  // content -> metadata of that copy
};

struct WriteStats {
  uint64_t entries = 0, files = 0, bytes = 0, linked = 0, copied = 0;
};

// Where a regular entry may be linked from, instead of the pool (host-hardlink):
// a /proc/self/fd/N path of a file the function opened and checked (linked
// with AT_SYMLINK_FOLLOW, i.e. that very inode), or "" with *why_not set.
using LinkSourceFn = std::function<std::string(const FsEntry&, std::string* why_not)>;

// Writes `tree` into the empty directory `dir`. `name` labels report notes.
Status write_tree(const FsTree& tree, const std::string& dir, const std::string& name,
                  const ContentIndex& index, LinkPool* pool, const LinkSourceFn& link_source,
                  const ComposeContext& ctx, WriteStats* stats, std::vector<std::string>* notes);

// Replaces `final_path` by `tmp_path` (atomically exchanged when it exists),
// then removes the previous version.
Status install_dir(const std::string& tmp_path, const std::string& final_path);

}  // namespace nestbox::composer
