#include "composer/squashfs/hard_links.h"

#include <map>

#include "composer/content_index.h"

namespace nestbox::composer::squashfs {
namespace {

bool same_inode(const FsEntry& a, const FsEntry& b) {
  if (a.type != b.type || a.mode != b.mode || a.uid != b.uid || a.gid != b.gid ||
      a.mtime != b.mtime || a.xattrs != b.xattrs)
    return false;
  switch (a.type) {
    case EntryType::kRegular: return same_content(a, b);  // never the hash alone
    case EntryType::kSymlink: return a.link_target == b.link_target;
    case EntryType::kCharDevice:
    case EntryType::kBlockDevice: return a.rdev_major == b.rdev_major && a.rdev_minor == b.rdev_minor;
    case EntryType::kFifo:
    case EntryType::kSocket: return true;
    case EntryType::kDirectory: return false;  // directories are never hard links
  }
  return false;
}

}  // namespace

InodeSharing share_inodes(const FsTree& tree) {
  const auto& es = tree.entries;
  InodeSharing out;
  out.leader.resize(es.size());
  out.nlink.assign(es.size(), 1);
  // link_id -> leaders of the inodes made for it so far (usually one; more
  // when a policy made the names differ).
  std::map<uint64_t, std::vector<size_t>> inodes;
  for (size_t i = 0; i < es.size(); ++i) {
    out.leader[i] = i;
    if (es[i].link_id == 0 || es[i].type == EntryType::kDirectory) continue;
    auto& leaders = inodes[es[i].link_id];
    for (size_t l : leaders)
      if (same_inode(es[l], es[i])) {
        out.leader[i] = l;
        break;
      }
    if (out.leader[i] == i) leaders.push_back(i);
  }
  std::vector<uint32_t> names(es.size(), 0);
  for (size_t i = 0; i < es.size(); ++i) ++names[out.leader[i]];
  for (size_t i = 0; i < es.size(); ++i) out.nlink[i] = names[out.leader[i]];
  return out;
}

}  // namespace nestbox::composer::squashfs
