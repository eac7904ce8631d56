// Bounds the on-disk compressed-block cache (block_store.h). Entries are
// evicted least recently used first: a hit refreshes the entry's mtime, so the
// oldest mtimes are the blocks no recent build needed. Temporary files of
// writers that are gone (`<entry>.tmp.<pid>` whose pid no longer runs, left by
// a killed build) are removed too. A concurrent build only ever sees an
// entry or its absence: a removed entry is a miss and is written again.
#pragma once

#include <cstdint>
#include <string>

#include "util/result.h"

namespace nestbox::composer::squashfs {

struct CacheGcReport {
  uint64_t entries = 0, bytes = 0;                  // before
  uint64_t evicted_entries = 0, evicted_bytes = 0;  // removed to fit the limit
  uint64_t stale_temporaries = 0;                   // dead writers' temp files removed
};

// Removes entries until the cache holds at most `max_bytes` (file sizes).
// `dir` must be a block cache (or empty); a directory that holds anything
// else is refused, so a mistyped path never deletes someone's files.
Result<CacheGcReport> collect_block_cache(const std::string& dir, uint64_t max_bytes);

}  // namespace nestbox::composer::squashfs
