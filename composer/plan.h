// `nestbox plan`: the four rootfs strategies compared on the real content of
// a set of containers. Flash sizes of squashfs images are estimated by really
// compressing every distinct file block by block with libsquashfs's
// compressor (the manifest's compressor and block size; blocks that do not
// shrink count raw, as mksquashfs stores them) plus compressed metadata.
//
//   squashfs       one image per container; nothing shared; standalone
//   overlay        one base image (entries identical in >= 2 containers) plus
//                  one layer per container; the base is shared in page cache
//   host-hardlink  files hardlinked to the host staging rootfs cost no flash;
//                  only what is not a host file is stored; shared with host
//   tree           all trees in one file system, identical files stored once;
//                  files used by >= 2 containers shared in page cache
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "composer/compose.h"
#include "composer/content_index.h"

namespace nestbox::composer {

struct StrategyFigures {
  manifests::RootfsStrategy strategy;
  uint64_t flash_bytes = 0;         // compressed bytes the strategy adds to flash
  uint64_t page_cache_shared = 0;   // file bytes whose page cache is shared (containers/host)
  bool standalone = false;          // usable without the host rootfs or a shared base
  std::string layout;               // one line: what gets stored
};

struct Plan {
  std::vector<std::string> containers;
  uint64_t file_bytes = 0;     // sum of regular file sizes over all containers
  uint64_t unique_bytes = 0;   // the same, identical content counted once
  std::vector<StrategyFigures> rows;  // squashfs, overlay, host-hardlink, tree
  // Set by `nestbox plan --measure`: flash of the real images (squashfs writer,
  // shared block store) instead of the estimate.
  std::optional<uint64_t> measured_squashfs, measured_overlay;
};

// Flash the overlay strategy saves against standalone squashfs images (may be
// negative): measured when available, else from the estimated rows.
int64_t overlay_saving(const Plan& p, bool* measured = nullptr);

Result<Plan> make_plan(std::span<const ComposedContainer> containers, const ContentIndex& index,
                       unsigned threads = 0);

std::string plan_to_text(const Plan& p);
std::string plan_to_json(const Plan& p);

// Estimated compressed size of one file (all blocks) with a compressor.
Result<uint64_t> compressed_file_size(const std::string& path, manifests::Compressor c,
                                      uint32_t block_size);

}  // namespace nestbox::composer
