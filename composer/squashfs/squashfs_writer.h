// Squashfs images from FsTrees with the installed libsquashfs (1.2).
//
// Reproducible: the same tree and options give the same bytes, whatever the
// thread count or the state of the block cache (mkfs time as
// given, the front end's SOURCE_DATE_EPOCH, else 0; names sorted; fragments packed in path order).
// The image is written to "<out>.tmp.<pid>" beside `out` and renamed into
// place only when complete; on any error the temporary file is removed and a
// previous image at `out` is untouched.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "composer/fs_tree.h"
#include "composer/progress.h"
#include "composer/squashfs/block_store.h"
#include "composer/squashfs/compressor.h"
#include "composer/squashfs/data_writer.h"
#include "util/result.h"

namespace nestbox::composer::squashfs {

struct SquashOptions {
  CompressorChoice compressor;           // default xz
  uint32_t block_size = 128 * 1024;      // power of two, 4 KiB .. 1 MiB
  unsigned threads = 0;                  // compression workers; 0 = online CPUs
  bool pad = true;                       // pad the image to a multiple of 4096
  // fsync the image before it is renamed to `out`. false: the caller syncs
  // it before the image goes anywhere a reader or a crash could find it.
  bool sync = true;
  std::optional<uint32_t> mkfs_time;     // SOURCE_DATE_EPOCH; default 0
  std::set<std::string> allowed_compressors;  // the target kernel's; empty = any
  uint64_t max_file_size = 0;            // 0 = the squashfs limit only
  bool stable_fragments = true;          // see DataOptions
  ProgressFn progress;                   // after each file's data (composer/progress.h)
  std::string progress_name;             // Progress::output
  // compose -v: where each file's data came from ("NAME: PATH: 3 blocks from
  // the cache"), prefixed with progress_name.
  std::function<void(const std::string&)> explain;
};

struct SquashStats {
  uint64_t bytes_used = 0;   // squashfs payload (super block's bytes_used)
  uint64_t image_size = 0;   // with padding
  uint32_t inodes = 0;
  DataStats data;
};

// Writes `tree` as a squashfs image at `out`. With a `store`, compressed
// blocks are looked up there first and new ones added.
Result<SquashStats> write_squashfs(const FsTree& tree, const std::string& out,
                                   const SquashOptions& opts, BlockStore* store = nullptr);

struct ImageRequest {
  const FsTree* tree;
  std::string out;
};

// Writes several images sharing one block store, so content common to them is
// compressed once. `cache_dir` keeps the store across runs; when empty, a
// temporary store beside the first output is used and removed afterwards
// (none for a single image).
Result<std::vector<SquashStats>> write_squashfs_images(const std::vector<ImageRequest>& images,
                                                       const SquashOptions& opts,
                                                       const std::string& cache_dir);

}  // namespace nestbox::composer::squashfs
