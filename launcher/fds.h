// Descriptors a container must never inherit. Whatever the caller of
// nestbox-launch left open (a directory fd of the host's `/`, a socket) would
// otherwise reach the container's processes through exec and let them walk
// the host (`/proc/self/fd/N/..`). Called before every exec into a container.
#pragma once

#include <vector>

#include "util/result.h"

namespace nestbox::launcher {

// The three standard descriptors are what a container inherits from the
// caller on purpose, so they are checked before the launcher opens anything:
// a closed one is filled with /dev/null (else the launcher's own first open,
// an image or the store directory, would land on it and be inherited), and one
// that is a directory or an O_PATH handle is refused (it would let the
// container walk the host: `/proc/self/fd/0/..`, `openat(0, "..")`).
Status secure_stdio();

// Marks every descriptor above 2 close-on-exec (close_range(CLOSE_RANGE_CLOEXEC)
// since 5.11, else each fd listed in /proc/self/fd, else every number below
// the hard RLIMIT_NOFILE). Close-on-exec rather than close: the setup channel
// must stay usable to report a failed exec. Fails if no method worked.
Status cloexec_all_above_stdio();
// Closes every descriptor above 2 (nestbox's init, which never execs).
Status close_all_above_stdio();
// The same, sparing `keep` (nestbox's init supervising services: its signalfd,
// report pipe and the services' output pipes).
Status close_all_above_stdio_except(std::vector<int> keep);

}  // namespace nestbox::launcher
