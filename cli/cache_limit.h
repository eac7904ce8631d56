// --cache-max-size of compose and squash: after a successful build with
// --cache, the block cache is trimmed to the limit, least recently used
// entries first (composer/squashfs/block_cache_gc.h), so a cache used by
// every build stays bounded without a separate `nestbox gc`.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "composer/squashfs/block_cache_gc.h"
#include "util/result.h"

namespace nestbox::cli {

// The default limit of compose/squash --cache-max-size and gc --max-size.
inline constexpr const char* kDefaultCacheMaxSize = "1G";

void add_cache_max_size_option(CLI::App& sub, std::string* value);

// Bytes for a --cache-max-size/--max-size value ("512M", "2G", "0").
Result<uint64_t> parse_cache_max_size(const std::string& option, const std::string& value);

// Trims `cache` to `max_bytes` (nothing when `cache` is empty or max is 0).
// A cache that cannot be trimmed (e.g. the directory holds foreign files) is
// a warning on stderr, not a failed build: the images are already in place.
std::optional<composer::squashfs::CacheGcReport> trim_cache_after_build(const std::string& cache,
                                                                         uint64_t max_bytes);

nlohmann::json cache_gc_json(const std::string& cache, uint64_t max_bytes,
                             const composer::squashfs::CacheGcReport& r);

}  // namespace nestbox::cli
