// The one openat2(2) wrapper: a path opened relative to a directory fd with
// the kernel deciding what lies inside, never a string walk that a symlink
// or ".." can lead out.
#pragma once

#include <sys/types.h>

#include <string>

#include "util/fd.h"

namespace nestbox {

enum class Confine {
  // RESOLVE_IN_ROOT: the directory is "/" for the lookup (a chroot's view):
  // absolute symlinks and ".." stay inside it. For paths a tree's own
  // symlinks may lead through (a staging rootfs, a container's root).
  kInRoot,
  // RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: any symlink on the path fails
  // (ELOOP), any escape fails (EXDEV). For paths that must be real.
  kBeneathNoSymlinks,
};

// `path` is relative to `dir_fd`; a leading "/" is dropped ("/" = the
// directory itself). O_CLOEXEC is always added; magic links (/proc/PID/fd)
// are never followed. Returns an invalid fd with errno set on failure
// (ENOSYS before Linux 5.6).
UniqueFd open_confined(int dir_fd, const std::string& path, int flags, Confine confine);

// The directory `relative` (components separated by '/'; "" = `dir_fd`
// itself) beneath `dir_fd`, walked one component at a time with
// openat(O_DIRECTORY | O_NOFOLLOW): a symlink or a non-directory on the way
// fails (ELOOP / ENOTDIR), like RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS but on
// kernels before openat2 (5.6) too, and with `create` each missing component
// is made (`mode`, 0755 unless given). "." and ".." components are refused (EINVAL). On
// failure errno is set and `*failed_end`, if given, is the length of the
// prefix of `relative` that failed.
UniqueFd open_dirs_no_symlinks(int dir_fd, const std::string& relative, bool create, size_t* failed_end = nullptr,
                               mode_t mode = 0755);

// The same for a whole path: absolute from "/", relative from the working
// directory, no symlink followed on any component (an operator's link on the
// way is refused too: whoever can write a directory on the way could
// otherwise swap it for a link between a check and a later use). The
// directory comes back open: later names are resolved beneath this fd, never
// by joining strings again. `*failed_end` indexes `path`.
UniqueFd open_path_no_symlinks(const std::string& path, bool create, size_t* failed_end = nullptr,
                               mode_t mode = 0755);

}  // namespace nestbox
