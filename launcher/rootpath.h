// Paths inside the container's root, resolved by the kernel with
// openat2(RESOLVE_IN_ROOT): "..", absolute symlinks and magic links cannot
// leave the root. Never string joining.
#pragma once

#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

// Opens `path` (absolute, inside the root) beneath `root_fd`. flags: O_* (O_PATH
// is typical). Falls back to a component walk refusing every symlink on kernels
// without openat2.
Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags);

// Creates the missing directories of `path` beneath `root_fd` (writable roots,
// tmpfs) and returns an O_PATH fd of the last one.
Result<UniqueFd> mkdirs_in_root(int root_fd, const std::string& path, unsigned mode);

// "/proc/self/fd/N": names the exact object behind an fd for mount(2).
std::string fd_path(int fd);

}  // namespace nestbox::launcher
