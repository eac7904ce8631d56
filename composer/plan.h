// `nestbox plan`: the four rootfs strategies compared on the real content of
// a set of containers, in the talk's three terms: flash, performance (memory
// and read time, measured with --measure) and manageability (what a release
// and an upgrade of one container take). Flash sizes of squashfs images are estimated by really
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

// What keeping the containers up to date takes with a strategy.
struct Manageability {
  unsigned signed_images = 0;   // images a release of every container signs
  // Images to sign and install to upgrade one container when only its own
  // files change, and when a file it shares with others changes.
  unsigned upgrade_images = 0, upgrade_images_shared = 0;
  // The container's files are in the firmware's root filesystem: upgrading
  // them is a firmware upgrade (plus the container's signed tree manifest).
  bool upgrade_needs_firmware = false;
  // Per container, same order as Plan::containers: bytes to download to
  // upgrade it (its image or layer; empty with upgrade_needs_firmware).
  std::vector<uint64_t> upgrade_download_bytes;
};

// Measured by `plan --measure` through the real layout (loop-mounted images,
// overlay over one base mount, the hardlinked tree, the host's files): every
// container reads its whole rootfs once, as a started container maps it.
struct RuntimeFigures {
  uint64_t bytes_read = 0;         // sum over containers of their files, in 4 KiB pages
  uint64_t file_cache_bytes = 0;   // page cache of those files afterwards (mincore), distinct inodes
  uint64_t image_cache_bytes = 0;  // page cache of the backing image files (compressed blocks)
  std::vector<uint64_t> cold_read_ns;  // per container: mount and read it all from cold caches
  // RAM the running containers share: pages one file cache page serves twice or more.
  uint64_t shared_bytes() const {
    return bytes_read > file_cache_bytes ? bytes_read - file_cache_bytes : 0;
  }
};

struct StrategyFigures {
  manifests::RootfsStrategy strategy;
  uint64_t flash_bytes = 0;         // compressed bytes the strategy adds to flash
  uint64_t page_cache_shared = 0;   // file bytes whose page cache is shared (containers/host)
  bool standalone = false;          // usable without the host rootfs or a shared base
  std::string layout;               // one line: what gets stored
  Manageability manage;
  std::optional<RuntimeFigures> runtime;  // --measure only
};

struct Plan {
  std::vector<std::string> containers;
  uint64_t file_bytes = 0;     // sum of regular file sizes over all containers
  uint64_t unique_bytes = 0;   // the same, identical content counted once
  std::vector<StrategyFigures> rows;  // squashfs, overlay, host-hardlink, tree
  // Set by `nestbox plan --measure`: flash of the real images (squashfs writer,
  // shared block store) instead of the estimate.
  std::optional<uint64_t> measured_squashfs, measured_overlay;
  // --measure: why the memory and read times could not be measured (they
  // need root and loop devices); "" when they were.
  std::string runtime_unmeasured;
};

// Whether a container entry is a file the host-hardlink strategy links to the
// host staging rootfs (same owner and mode as the host's file).
bool host_linkable(const ComposedContainer& c, const FsEntry& e);

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
