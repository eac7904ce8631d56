// Compressor selection for squashfs images: names, availability in the
// installed libsquashfs, the target kernel's allowed set, and the fingerprint
// that keys the compressed-block cache.
#pragma once

#include <sqfs/compressor.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "composer/squashfs/sqfs_ptr.h"
#include "util/result.h"

namespace nestbox::composer::squashfs {

// Names squashfs uses: "gzip", "lzo", "lzma", "xz", "lz4", "zstd".
std::vector<std::string> available_compressors();

struct CompressorChoice {
  std::string name = "xz";
  std::optional<uint32_t> level;  // compressor default when unset
};

struct Compressor {
  sqfs_compressor_config_t config{};
  SqfsPtr<sqfs_compressor_t> compress;
  SqfsPtr<sqfs_compressor_t> uncompress;
  std::string fingerprint;  // "xz/6/0/131072/..." stable across runs
};

// Creates the compressor for `block_size`. Errors (kBadInput) name the
// compressor: unknown, not built into libsquashfs, or not in `allowed` (the
// target kernel's CONFIG_SQUASHFS_<X> set) when `allowed` is non-empty.
Result<Compressor> make_compressor(const CompressorChoice& choice, uint32_t block_size,
                                   const std::set<std::string>& allowed);

}  // namespace nestbox::composer::squashfs
