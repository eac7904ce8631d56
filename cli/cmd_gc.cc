// nestbox gc: keep a compressed-block cache (compose/squash --cache) within a
// size, least recently used blocks first (composer/squashfs/block_cache_gc.h).
#include <iostream>
#include <memory>

#include "cli/cache_limit.h"
#include "cli/command.h"
#include "composer/squashfs/block_cache_gc.h"
#include "util/json_text.h"

namespace nestbox::cli {
namespace {

struct GcArgs {
  std::string cache;
  std::string max_size = kDefaultCacheMaxSize;
  bool json = false;
};

Status run_gc(const GcArgs& a) {
  auto max = parse_cache_max_size("--max-size", a.max_size);
  if (!max.ok()) return std::move(max).error();
  auto r = composer::squashfs::collect_block_cache(a.cache, *max);
  if (!r.ok()) return std::move(r).error();
  if (a.json) {
    std::cout << json_text(cache_gc_json(a.cache, *max, *r), 2) << "\n";
  } else {
    std::cout << a.cache << ": " << r->entries << " entries, " << r->bytes << " bytes; evicted "
              << r->evicted_entries << " entries, " << r->evicted_bytes << " bytes; removed "
              << r->stale_temporaries << " stale temporary files\n";
  }
  return ok_status();
}

}  // namespace

Runner define_gc(CLI::App& sub) {
  auto a = std::make_shared<GcArgs>();
  sub.add_option("--cache", a->cache, "The block cache directory (compose/squash --cache)")->required();
  sub.add_option("--max-size", a->max_size,
                 std::string("Keep at most this many bytes, e.g. 2G (default ") + kDefaultCacheMaxSize +
                     ", the default of compose/squash --cache-max-size; 0 empties "
                     "the cache)");
  sub.add_flag("--json", a->json, "Print the report as JSON");
  return [a] {
    Status st = run_gc(*a);
    return st.ok() ? kExitOk : report("gc", st.error());
  };
}

}  // namespace nestbox::cli
