// A fixed set of worker threads over a list of independent items: the
// composer's one pattern for spreading work over cores. Results belong in
// per-item slots, so the output never depends on which thread ran what.
#pragma once

#include <cstddef>
#include <functional>

namespace nestbox::composer {

// How many workers `threads` means for `items` items: 0 is one per core;
// never more than there are items, never fewer than one.
unsigned worker_count(unsigned threads, size_t items);

// Runs fn(item, worker) once for each item in [0, items), on `workers`
// threads (the calling thread is worker 0); returns when all are done.
void parallel_for(size_t items, unsigned workers, const std::function<void(size_t item, unsigned worker)>& fn);

}  // namespace nestbox::composer
