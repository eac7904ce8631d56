// Opens a file that must be a regular file without ever opening anything
// else. open(2) of a device node has effects before any fstat can refuse it
// (a watchdog arms, a tape rewinds, a modem hangs up), so the name is first
// opened O_PATH (which opens nothing), checked, and only that very inode is
// then opened for I/O, through /proc/self/fd. Target-safe (libc only).
#pragma once

#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace nestbox {

// `name` beneath `dir_fd` (AT_FDCWD: the working directory), never through a
// symlink in its last component, opened with `flags` (O_RDONLY or O_RDWR,
// plus e.g. O_NONBLOCK; O_CLOEXEC and O_NOCTTY are added). Errors carry no
// path: "a symbolic link: refused" (sys_errno ELOOP), "not a regular file",
// or the open's error (sys_errno ENOENT when absent).
// `follow`: a symlink at `name` is followed (a path the caller named, such as
// a manifest); what it leads to must still be a regular file.
Result<UniqueFd> open_regular_at(int dir_fd, const std::string& name, int flags, bool follow = false);

}  // namespace nestbox
