// The `squashfs` and `overlay` output writers of `nestbox compose`
// (composer/compose.h's OutputWriter), built on write_squashfs():
//
//   squashfs  <out>/<name>.sqfs, one standalone image per container
//   overlay   <out>/base/<base>.sqfs, one per base, shared by every container
//             naming it in rootfs.base (containers naming none share the
//             automatic base kAutomaticBase), plus <out>/<name>.layer.sqfs;
//             overlay(lowerdir = layer:base) shows exactly the container's tree
//
// Base content: with two or more containers, every entry identical in at
// least two of them (split_overlay); with one container, everything except the
// manifest's own extras ([[rootfs.dir]], .file, .symlink, .device), which stay
// in its layer.
//
// Every image of one writer call is written under <out>/.nestbox-images-<pid>/
// and renamed into place only when all of them are complete, so a failed run
// leaves no partial image at a final path and the previous images untouched.
// All images of one compose run share one BlockStore (`cache_dir`, kept across
// runs; otherwise a temporary one beside the outputs), so content common to
// several images is compressed once.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "composer/compose.h"
#include "composer/squashfs/squashfs_writer.h"

namespace nestbox::composer::squashfs {

// Name of the base shared by overlay containers whose manifest names none.
inline constexpr const char* kAutomaticBase = manifests::kAutomaticBase;

struct ImageOptions {
  std::optional<std::string> compressor;  // overrides every manifest's rootfs.compressor
  std::optional<uint32_t> level;          // compressor level (default: the compressor's)
  std::optional<uint32_t> block_size;     // overrides every manifest's rootfs.block_size
  unsigned threads = 0;                   // compression workers; 0 = online CPUs
  std::string cache_dir;                  // block store kept across runs ("" = per run)
  bool pad = true;                        // pad images to 4096 bytes
  std::set<std::string> allowed_compressors;  // the target kernel's; empty = any
  std::optional<uint32_t> mkfs_time;      // the front end passes SOURCE_DATE_EPOCH; default 0
  ProgressFn progress;                    // each image's (composer/progress.h)
  std::function<void(const std::string&)> explain;  // compose -v (SquashOptions::explain)
};

struct ImageRecord {
  enum class Kind { kStandalone, kBase, kLayer };
  Kind kind = Kind::kStandalone;
  std::string name;            // container name, or the base's name
  std::string path;            // final path of the image
  std::string base;            // kLayer: the base's name
  std::vector<std::string> containers;  // kBase: the containers using it
  std::string compressor;
  uint32_t block_size = 0;
  // SHA-256 (lowercase hex) of the image zero-padded to 4096 bytes: the
  // payload digest the signer records (policy rootfs.base_sha256 for a base).
  std::string payload_sha256;
  SquashStats stats;
};

// What the image writers did in one compose run.
struct ImageLog {
  std::vector<ImageRecord> images;
  StoreStats store;  // the shared block store's lookups (accumulated)
  // The base record an overlay container's layer sits on (nullptr if none).
  const ImageRecord* base_of(const std::string& container) const;
};

// The squashfs and overlay writers, sharing one block store. `log` must
// outlive them.
std::vector<std::unique_ptr<OutputWriter>> image_writers(const ImageOptions& options,
                                                         ImageLog* log);

// Flash bytes measured by really writing the images (for `nestbox plan
// --measure`): one standalone image per container, and the overlay layout (one
// base shared by all containers, as compose's automatic base, plus a layer
// each). The images stay in `scratch` (the caller removes it: plan mounts them
// to measure memory and read times); one block store is shared.
struct MeasuredFlash {
  uint64_t squashfs_bytes = 0;  // sum of the standalone images
  uint64_t overlay_bytes = 0;   // base + layers
  uint64_t base_bytes = 0;
  std::vector<std::string> squashfs_images;  // one per container, same order
  std::vector<uint64_t> squashfs_image_bytes;
  std::string base_image;
  std::vector<std::string> layer_images;     // one per container, same order
  std::vector<uint64_t> layer_image_bytes;
};
Result<MeasuredFlash> measure_flash(std::span<const ComposedContainer> containers,
                                    const std::string& scratch, const ImageOptions& options);

// SHA-256 (64 lowercase hex) of the file's bytes followed by zeros up to the
// next multiple of 4096 (nothing added when already aligned).
Result<std::string> padded_sha256(const std::string& path);

}  // namespace nestbox::composer::squashfs
