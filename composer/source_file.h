// Where a regular entry's bytes are read from, when an image or tree is
// written: the host file the walk of its source saw, and no other.
#pragma once

#include "composer/fs_tree.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::composer {

// Opens `e.source_path` for reading: not through a symlink at its end, never
// waiting on a FIFO, a regular file of `e.size` bytes and, for a host tree's
// file (`e.source_ino` set), the very inode the walk saw. The path is
// resolved again here, and a directory on it swapped for a symlink since the
// walk would otherwise feed another file's bytes (the host's /etc/shadow)
// into the output. Errors name "<source_path> (for <path>)".
Result<UniqueFd> open_source_file(const FsEntry& e);

}  // namespace nestbox::composer
