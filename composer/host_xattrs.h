// The extended attributes of a host file, as the composer takes them into a
// tree or compares them before hard-linking a file into one.
#pragma once

#include <string>
#include <vector>

#include "composer/fs_tree.h"
#include "util/result.h"

namespace nestbox::composer {

// All xattrs of `path`, sorted by name; none when the filesystem has no
// xattrs (ENOTSUP). `follow`: `path` may be a symlink to follow (a
// /proc/self/fd link); otherwise a symlink's own xattrs are read. A file
// without xattrs costs one system call; names or values that grow while they
// are read are read again, never cut short.
Result<std::vector<Xattr>> read_host_xattrs(const std::string& path, bool follow = false);

}  // namespace nestbox::composer
