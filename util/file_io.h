// Small file helpers shared by host and target code (libc only).
#pragma once

#include <string>

#include "util/result.h"

namespace nestbox {

Result<std::string> read_file(const std::string& path);

// Writes `data` to a temporary file beside `path`, fsyncs it and renames it
// into place: readers see the old file or the new one, never a torn one.
Status write_file_atomic(const std::string& path, const std::string& data, unsigned mode = 0644);

// Writes the whole buffer, retrying on EINTR and short writes.
Status write_all(int fd, const void* data, size_t size, const std::string& what);

}  // namespace nestbox
