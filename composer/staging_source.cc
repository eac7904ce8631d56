// SourceTree::add_directory: a staging rootfs on disk, walked by the one
// host walk (composer/host_walk.h: name by name below directories held open,
// no symlink followed), names sorted, xattrs kept.
#include "composer/host_walk.h"
#include "composer/path.h"
#include "composer/source_tree.h"

namespace nestbox::composer {

Status SourceTree::add_directory(const std::string& dir, const IngestOptions& opts) {
  return walk_host_directory(dir, "staging directory", excluded_, [&](FsEntry& e, const std::string& where) -> Status {
    if (e.type == EntryType::kSymlink) {
      auto d = symlink_destination(e.path, e.link_target);
      if (!d.ok()) return bad_input(where + ": " + d.error().message);
    }
    std::string violation;
    NESTBOX_TRY(apply_policy(&e, opts, where, this, &violation));
    std::string path = e.path;
    NESTBOX_TRY(insert(std::move(e), where, true));
    if (!violation.empty()) this->violation(std::move(path), violation);
    return ok_status();
  });
}

}  // namespace nestbox::composer
