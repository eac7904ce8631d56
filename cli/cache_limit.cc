#include "cli/cache_limit.h"

#include <iostream>

#include "manifests/units.h"

namespace nestbox::cli {

void add_cache_max_size_option(CLI::App& sub, std::string* value) {
  sub.add_option("--cache-max-size", *value,
                 std::string("With --cache: afterwards trim the cache to this size, least recently used "
                             "blocks first (default ") + kDefaultCacheMaxSize + "; 0 = no limit)");
}

Result<uint64_t> parse_cache_max_size(const std::string& option, const std::string& value) {
  auto max = manifests::parse_size(value);
  if (!max) return bad_input(option + " '" + value + "': expected a size such as 512M or 2G");
  return *max;
}

std::optional<composer::squashfs::CacheGcReport> trim_cache_after_build(const std::string& cache,
                                                                         uint64_t max_bytes) {
  if (cache.empty() || max_bytes == 0) return std::nullopt;
  auto r = composer::squashfs::collect_block_cache(cache, max_bytes);
  if (!r.ok()) {
    std::cerr << "warning: block cache not trimmed: " << r.error().message << "\n";
    return std::nullopt;
  }
  return *r;
}

nlohmann::json cache_gc_json(const std::string& cache, uint64_t max_bytes,
                             const composer::squashfs::CacheGcReport& r) {
  return {{"cache", cache},
          {"max_bytes", max_bytes},
          {"entries", r.entries},
          {"bytes", r.bytes},
          {"evicted_entries", r.evicted_entries},
          {"evicted_bytes", r.evicted_bytes},
          {"stale_temporaries", r.stale_temporaries}};
}

}  // namespace nestbox::cli
