// Small file helpers shared by host and target code (libc only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "util/result.h"

namespace nestbox {

// Reads a file the caller named (a symlink there is followed): it must be a
// regular file (a device node or FIFO is never opened: /dev/zero would be
// read forever) of at most `max_bytes`, read through the one fd checked.
inline constexpr size_t kMaxReadFile = 64u << 20;
Result<std::string> read_file(const std::string& path, size_t max_bytes = kMaxReadFile);

// Reads a file that must be a regular file: opened once with O_NOFOLLOW |
// O_NONBLOCK (a symlink is refused, a FIFO never blocks) and checked with
// fstat on that fd. For trust inputs (keys, revocation lists, store records).
// `path` is relative to `dirfd` (AT_FDCWD: the working directory); errors name
// `shown`, or `path` when `shown` is empty. A file longer than `max_bytes`
// is refused without reading past that bound: these are small records, and a
// sparse or growing file planted where one belongs must not take the device's
// memory.
inline constexpr size_t kMaxRegularFile = 1 << 20;
Result<std::string> read_regular_file(const std::string& path, int dirfd = -100 /* AT_FDCWD */,
                                      const std::string& shown = {}, size_t max_bytes = kMaxRegularFile);

// Writes `data` to a temporary file beside `path`, fsyncs it and renames it
// into place: readers see the old file or the new one, never a torn one.
Status write_file_atomic(const std::string& path, const std::string& data, unsigned mode = 0644);
// The same for `name` beneath the held directory `dirfd` (the temp file
// created there with O_EXCL | O_NOFOLLOW, renamed there with renameat): a
// directory on the way swapped for a link after `dirfd` was opened changes
// nothing. Errors name `shown` (the path, for people).
Status write_file_atomic_at(int dirfd, const std::string& name, const std::string& data, unsigned mode,
                            const std::string& shown);

// mkdir -p: creates the missing directories of `path` with `mode`; existing
// ones are left as they are. The error names the directory that failed.
Status make_dirs(const std::string& path, unsigned mode);

// Writes the whole buffer, retrying on EINTR and short writes.
Status write_all(int fd, const void* data, size_t size, const std::string& what);
// The same at `offset` (pwrite: the file position does not move).
Status pwrite_all(int fd, const void* data, size_t size, uint64_t offset, const std::string& what);
// Reads exactly `size` bytes at `offset`; a file that ends first is an error.
Status pread_exact(int fd, void* data, size_t size, uint64_t offset, const std::string& what);

}  // namespace nestbox
