// A read-only view of a target root file system, so that path resolution and
// the ELF closure work the same over a directory on disk (`nestbox closure
// --root`) and over the composer's merged sources (archives + staging dirs).
// Symlinks are resolved by resolve_in_root() component by component, always
// inside the root: an absolute target restarts at the root, ".." stops at it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "composer/mapped_file.h"
#include "util/result.h"

namespace nestbox::composer {

enum class NodeKind { kMissing, kDirectory, kRegular, kSymlink, kOther };

struct NodeInfo {
  NodeKind kind = NodeKind::kMissing;
  std::string link_target;  // kSymlink
};

class RootView {
 public:
  virtual ~RootView() = default;
  // Looks at `path` (absolute, normalised, parents free of symlinks) without
  // following a final symlink. A missing path is kMissing, not an error.
  virtual Result<NodeInfo> lstat(const std::string& path) const = 0;
  // Maps the regular file at `path` (resolved, no symlinks).
  virtual Result<MappedFile> map(const std::string& path) const = 0;
  // Sorted names in the directory at `path` (resolved).
  virtual Result<std::vector<std::string>> list(const std::string& path) const = 0;
};

// A directory on the host used as the root. Every access opens the parent
// with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so nothing outside `dir` is
// ever read even if the tree changes underneath.
Result<std::unique_ptr<RootView>> open_dir_root(const std::string& dir);

struct Resolved {
  std::string path;                   // final path inside the root
  NodeKind kind = NodeKind::kMissing;
  std::vector<std::string> symlinks;  // symlinks traversed, in order
};

// Resolves `path` inside the root, following symlinks (the final one too when
// `follow_final`). A missing component gives kind kMissing; a loop of more
// than 40 symlinks is an error.
Result<Resolved> resolve_in_root(const RootView& root, const std::string& path,
                                 bool follow_final = true);

}  // namespace nestbox::composer
