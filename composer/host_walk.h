// The one walk of a host directory tree: the composer's staging sources
// (SourceTree::add_directory) and `nestbox squash DIR`
// (squashfs::fs_tree_from_directory) both read their directories through it.
//
// Every step is one name below a directory already held open (fstatat,
// readlinkat, openat with O_NOFOLLOW), never a path resolved again from the
// top: a directory renamed or swapped for a symlink while the walk runs
// (a third party's install step racing the build) cannot send it into the
// build host's /etc. Each directory opened is checked to be the inode its
// parent listed. A regular file's entry records its host path and inode
// (source_dev/source_ino); writers open it through open_source_file
// (composer/source_file.h), which must find that inode again.
#pragma once

#include <functional>
#include <string>

#include "composer/fs_tree.h"
#include "util/result.h"

namespace nestbox::composer {

// Called for every entry, parents before children, names sorted. `e` holds
// the path inside the tree ("/" for the root), type, mode, owner, mtime,
// xattrs (all of them, sorted), for a regular file its host path, size and
// inode, for a symlink its target, for a device its numbers, and for a
// non-directory the host shows with more than one link a link_id shared by
// its names. `where` is "<dir>: entry '<path>'" for messages. The visitor
// may change `e` freely; an error stops the walk and is returned.
using HostWalkVisitor = std::function<Status(FsEntry& e, const std::string& where)>;

// Walks `dir` (reached through symlinks of the caller's own path, then
// nothing below it followed). `kind` names it in messages ("staging
// directory"). `excluded`: a path inside the tree ("/a/b") neither listed
// nor entered; "" for none.
Status walk_host_directory(const std::string& dir, const std::string& kind, const std::string& excluded,
                           const HostWalkVisitor& visit);

}  // namespace nestbox::composer
