// `nestbox compose`: for each manifest, sources -> selection -> one content
// index over all containers -> the output writer of the container's rootfs
// strategy. Writers plug in per strategy (tree and host-hardlink here;
// squashfs and overlay add theirs): each receives all containers of its
// strategy at once, so it can share content across them.
//
// Call order: collect writers (default_writers() + others) -> compose().
// Every writer builds its output under a temporary name and hands it to the
// run's OutputCommit (composer/output_commit.h); all outputs are renamed into
// place together, last, only when every container succeeded. A failed run
// leaves every previous output untouched; an interrupted commit is completed
// by the next run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "composer/content_index.h"
#include "composer/fs_tree.h"
#include "composer/output_commit.h"
#include "manifests/model.h"
#include "util/result.h"

namespace nestbox::composer {

struct ComposedContainer {
  const manifests::Manifest* manifest = nullptr;
  manifests::RootfsStrategy strategy = manifests::RootfsStrategy::kTree;
  FsTree tree;
  std::string staging_dir;  // first directory source ("" when none): host-hardlink target
};

struct ComposeContext {
  std::string out_dir;
  const ContentIndex* index = nullptr;
  // Called after each entry written (tests use it to simulate a crash).
  std::function<void(uint64_t entries_written)> progress;
  // host-hardlink: absolute directory inside the staging rootfs ("" =
  // kDefaultHardlinkDir, composer/staging_root.h).
  std::string hardlink_dir;
  // host-hardlink: the firmware packs the staging rootfs owned by 0:0
  // (compose --root-owned), so the tree's owners on disk do not matter and
  // are left as written (the build user's): a build user cannot chown to
  // root, and sign --composed records 0:0. The `tree` writer ignores it.
  bool root_owned = false;
  // Where finished outputs go until the run commits (never null in write()).
  OutputCommit* commit = nullptr;
};

struct ComposeReport {
  struct Output {
    std::string container;
    std::string strategy;
    std::string path;        // where the output was placed
    uint64_t entries = 0;
    uint64_t files = 0;
    uint64_t bytes = 0;      // regular file bytes in the tree
    uint64_t linked = 0;     // regular files written as hardlinks
    uint64_t copied = 0;     // regular files written as new copies
  };
  std::vector<Output> outputs;
  std::vector<std::string> notes;  // setuid stripped, copies instead of links, ...
  uint64_t distinct_contents = 0;
  uint64_t bytes_hashed = 0;
};

class OutputWriter {
 public:
  virtual ~OutputWriter() = default;
  virtual manifests::RootfsStrategy strategy() const = 0;
  virtual Status write(std::span<const ComposedContainer* const> containers,
                       const ComposeContext& ctx, ComposeReport* report) = 0;
};

// The writers of this component: `tree` and `host-hardlink`.
std::vector<std::unique_ptr<OutputWriter>> default_writers();

struct ComposeOptions {
  std::string out_dir;
  unsigned threads = 0;                       // 0: one per core
  std::optional<int64_t> source_date_epoch;   // clamp mtimes
  bool all_time = false;                      // every mtime = source_date_epoch (compose --all-time)
  std::optional<manifests::RootfsStrategy> force_strategy;  // override every manifest
  std::string hardlink_dir;  // host-hardlink trees inside the staging rootfs ("": default)
  bool root_owned = false;   // host-hardlink: packed owned by 0:0 (ComposeContext::root_owned)
  std::function<void(uint64_t)> progress;
  // compose -v: one line per decision ("NAME: PATH: taken: matches
  // rootfs.include \"/bin/**\""); the image writers add theirs (ImageOptions).
  std::function<void(const std::string&)> explain;
  // The caller's commit, when it adds outputs of its own (runtime forms) and
  // commits itself; null: compose() commits its writers' outputs on success.
  OutputCommit* commit = nullptr;
};

// Sources + selection for one manifest; `scratch` holds archive contents and
// must outlive the returned tree. Notes (setuid stripped...) are appended.
// An error from one [[rootfs.source]] sets *failed_source (if given) to its index.
Result<ComposedContainer> prepare_container(const manifests::Manifest& m,
                                            const std::string& scratch,
                                            std::optional<int64_t> source_date_epoch,
                                            std::vector<std::string>* notes,
                                            const std::string& hardlink_dir = "",
                                            const std::function<void(const std::string&)>& explain = nullptr,
                                            bool all_time = false,
                                            std::optional<size_t>* failed_source = nullptr);

// `dir` (compose's output directory, "output directory"; its block cache,
// "block cache") may not be, or lie inside, a directory source of these
// manifests (symlinks resolved): the walk would read it back, so each build
// packed the previous one's images, runtime forms, scratch files or cache
// entries (two composes of the same inputs gave different images).
Status check_outside_directory_sources(const std::vector<manifests::Manifest>& manifests, const std::string& dir,
                                       const std::string& what);

Result<ComposeReport> compose(const std::vector<manifests::Manifest>& manifests,
                              const ComposeOptions& opts,
                              std::span<OutputWriter* const> writers);

}  // namespace nestbox::composer
