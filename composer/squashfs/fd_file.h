// A libsquashfs sqfs_file_t over a nestbox-owned file descriptor, so that a
// failed write keeps its errno (ENOSPC, EIO) for a clear error message.
#pragma once

#include <sqfs/io.h>

#include <cstdint>

#include "composer/squashfs/sqfs_ptr.h"
#include "util/fd.h"

namespace nestbox::composer::squashfs {

struct FdFile {
  sqfs_file_t base;  // must stay first: libsquashfs sees a sqfs_file_t*
  UniqueFd fd;
  uint64_t size = 0;
  int last_errno = 0;  // errno of the first failed read/write, else 0
  uint64_t writeback_from = 0;  // below this, writeback to the disk has been started
};

// Wraps `fd` (opened read-write, empty). The returned object owns the fd.
SqfsPtr<FdFile> make_fd_file(UniqueFd fd);

inline sqfs_file_t* as_sqfs(FdFile* f) { return &f->base; }

}  // namespace nestbox::composer::squashfs
