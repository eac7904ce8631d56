#include "composer/squashfs/overlay_split.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "composer/content_index.h"

namespace nestbox::composer::squashfs {
namespace {

std::string parent_of(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == 0 ? "/" : p.substr(0, slash);
}

bool same_metadata(const FsEntry& a, const FsEntry& b) {
  return a.type == b.type && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid &&
         a.mtime == b.mtime && a.xattrs == b.xattrs;
}

using Index = std::map<std::string, const FsEntry*>;

Index index_of(const FsTree& t) {
  Index idx;
  for (const auto& e : t.entries) idx.emplace(e.path, &e);
  return idx;
}

// Adds `path`'s ancestors (from `from`) to `out`.
void add_ancestors(const std::string& path, const Index& from, std::map<std::string, FsEntry>* out) {
  for (std::string p = path; p != "/";) {
    p = parent_of(p);
    if (out->count(p)) break;
    auto it = from.find(p);
    if (it != from.end()) out->emplace(p, *it->second);
  }
}

FsTree to_tree(std::map<std::string, FsEntry> m) {
  FsTree t;
  t.entries.reserve(m.size());
  for (auto& [p, e] : m) t.entries.push_back(std::move(e));
  return t;
}

Result<FsTree> make_layer(const Index& base, const FsTree& c) {
  Index cidx = index_of(c);
  if (c.entries.empty() || c.entries[0].path != "/")
    return bad_input("overlay split: a container tree has no root directory");
  std::map<std::string, FsEntry> layer;
  layer.emplace("/", c.entries[0]);
  for (const auto& e : c.entries) {
    auto it = base.find(e.path);
    bool covered = it != base.end() && (e.type == EntryType::kDirectory
                                            ? same_metadata(e, *it->second)
                                            : same_entry(e, *it->second));
    if (covered) continue;
    layer.emplace(e.path, e);
    add_ancestors(e.path, cidx, &layer);
  }
  for (const auto& [path, b] : base) {
    if (path == "/" || cidx.count(path)) continue;
    auto parent = cidx.find(parent_of(path));
    if (parent == cidx.end() || parent->second->type != EntryType::kDirectory) continue;
    FsEntry wh;
    wh.path = path;
    wh.type = EntryType::kCharDevice;
    wh.mode = 0;
    wh.mtime = c.entries[0].mtime;
    layer[path] = wh;
    add_ancestors(path, cidx, &layer);
  }
  return to_tree(std::move(layer));
}

Result<OverlaySplit> layers_for(FsTree base, const std::vector<const FsTree*>& containers) {
  OverlaySplit out;
  Index bidx = index_of(base);
  for (const FsTree* c : containers) {
    auto layer = make_layer(bidx, *c);
    if (!layer.ok()) return std::move(layer).error();
    out.layers.push_back(std::move(*layer));
  }
  out.base = std::move(base);
  return out;
}

}  // namespace

bool same_entry(const FsEntry& a, const FsEntry& b) {
  if (!same_metadata(a, b) || a.path != b.path) return false;
  switch (a.type) {
    case EntryType::kRegular: return same_content(a, b);  // never the hash alone
    case EntryType::kSymlink: return a.link_target == b.link_target;
    case EntryType::kCharDevice:
    case EntryType::kBlockDevice: return a.rdev_major == b.rdev_major && a.rdev_minor == b.rdev_minor;
    default: return true;
  }
}

Result<OverlaySplit> split_overlay(const std::vector<const FsTree*>& containers,
                                   unsigned min_share) {
  if (containers.empty()) return bad_input("overlay split: no containers");
  for (const FsTree* c : containers)
    for (const auto& e : c->entries)
      if (e.type == EntryType::kRegular && e.hash == ContentHash{} && e.content_id == kNoContentId &&
          e.size > 0)
        return bad_input("overlay split: " + e.path + ": no content hash");
  // Count identical non-directory entries across containers.
  std::map<std::string, std::vector<const FsEntry*>> by_path;
  for (const FsTree* c : containers)
    for (const auto& e : c->entries)
      if (e.type != EntryType::kDirectory) by_path[e.path].push_back(&e);
  std::vector<Index> idx;
  for (const FsTree* c : containers) idx.push_back(index_of(*c));
  std::map<std::string, FsEntry> base;
  base.emplace("/", containers[0]->entries.at(0));
  for (const auto& [path, list] : by_path) {
    for (const FsEntry* cand : list) {
      unsigned n = static_cast<unsigned>(std::count_if(
          list.begin(), list.end(), [&](const FsEntry* o) { return same_entry(*cand, *o); }));
      if (n < min_share) continue;
      base.emplace(path, *cand);
      // Ancestors from the first container that has this entry.
      for (size_t i = 0; i < containers.size(); ++i) {
        auto it = idx[i].find(path);
        if (it != idx[i].end() && same_entry(*it->second, *cand)) {
          add_ancestors(path, idx[i], &base);
          break;
        }
      }
      break;
    }
  }
  return layers_for(to_tree(std::move(base)), containers);
}

Result<OverlaySplit> split_overlay_with_base(const FsTree& base,
                                             const std::vector<const FsTree*>& containers) {
  if (base.entries.empty() || base.entries[0].path != "/")
    return bad_input("overlay split: the base tree has no root directory");
  return layers_for(base, containers);
}

}  // namespace nestbox::composer::squashfs
