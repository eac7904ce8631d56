// Descriptors a container must never inherit. Whatever the caller of
// nestbox-launch left open (a directory fd of the host's `/`, a socket) would
// otherwise reach the container's processes through exec and let them walk
// the host (`/proc/self/fd/N/..`). Called before every exec into a container.
#pragma once

#include <vector>

#include "util/result.h"

namespace nestbox::launcher {

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
