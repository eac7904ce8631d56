// RAII owners for libsquashfs objects and translation of SQFS_ERROR codes into
// nestbox errors. Internal to the squashfs writer.
#pragma once

#include <sqfs/predef.h>

#include <memory>
#include <string>

#include "util/result.h"

namespace nestbox::composer::squashfs {

struct SqfsDeleter {
  void operator()(void* obj) const { sqfs_destroy(obj); }
};
template <typename T>
using SqfsPtr = std::unique_ptr<T, SqfsDeleter>;

// Human-readable name of an SQFS_ERROR value ("I/O error", "out of memory").
std::string sqfs_error_name(int code);

// Error for a failed libsquashfs call: "<what>: <name>". When the output file
// recorded an errno (ENOSPC, EIO), pass it so the message names it instead.
Error sqfs_failure(const std::string& what, int code, int sys_errno = 0);

}  // namespace nestbox::composer::squashfs
