// Runs independent tasks on a few threads: boot verifies many installed
// images, and hashing one image neither needs nor waits for another. The
// caller's thread takes part, so a thread that cannot be created only costs
// speed (the tasks still all run). Threads are joined before this returns:
// boot forks afterwards, from a process with one thread.
#pragma once

#include <cstddef>
#include <functional>

namespace nestbox::launch {

// How many threads to use for `tasks` independent tasks: the online CPUs,
// at least two (reading a flash block overlaps hashing the previous one),
// at most 8 and never more than tasks.
unsigned parallel_jobs(size_t tasks);

// Calls task(i) once for each i < count, at most `jobs` at a time. Tasks
// must not share mutable state; results go in per-index slots.
void run_parallel(size_t count, unsigned jobs, const std::function<void(size_t)>& task);

}  // namespace nestbox::launch
