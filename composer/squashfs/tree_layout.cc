#include "composer/squashfs/tree_layout.h"

#include <algorithm>
#include <unordered_map>

namespace nestbox::composer::squashfs {

uint64_t squashfs_max_file_size(uint32_t block_size) {
  return (0xFFFFFFFFull / 4) * block_size;
}

Result<TreeLayout> make_tree_layout(const FsTree& tree, uint32_t block_size,
                                    uint64_t max_file_size) {
  const auto& es = tree.entries;
  if (es.empty() || es[0].path != "/" || es[0].type != EntryType::kDirectory)
    return bad_input("fs tree: the first entry must be the root directory \"/\"");
  uint64_t limit = squashfs_max_file_size(block_size);
  if (max_file_size != 0) limit = std::min(limit, max_file_size);
  TreeLayout out;
  out.children.resize(es.size());
  out.names.resize(es.size());
  std::unordered_map<std::string, size_t> index{{"/", 0}};
  for (size_t i = 1; i < es.size(); ++i) {
    const FsEntry& e = es[i];
    if (e.path.size() < 2 || e.path[0] != '/' || e.path.back() == '/')
      return bad_input("fs tree: " + e.path + ": not a normalised absolute path");
    if (!(es[i - 1].path < e.path))
      return bad_input("fs tree: " + e.path + ": entries not sorted or duplicated");
    size_t slash = e.path.rfind('/');
    std::string parent = slash == 0 ? "/" : e.path.substr(0, slash);
    std::string name = e.path.substr(slash + 1);
    if (name.empty() || name == "." || name == "..")
      return bad_input("fs tree: " + e.path + ": invalid name");
    if (name.size() > 256)
      return bad_input("fs tree: " + e.path + ": name longer than 256 bytes (squashfs limit)");
    auto it = index.find(parent);
    if (it == index.end() || es[it->second].type != EntryType::kDirectory)
      return bad_input("fs tree: " + e.path + ": parent directory " + parent + " missing");
    if (e.type == EntryType::kRegular && e.size > limit)
      return bad_input("fs tree: " + e.path + ": file of " + std::to_string(e.size) +
                       " bytes exceeds the squashfs limit of " + std::to_string(limit) +
                       " bytes for block size " + std::to_string(block_size));
    if (e.type == EntryType::kSymlink && (e.link_target.empty() || e.link_target.size() > 4095))
      return bad_input("fs tree: " + e.path + ": symlink target must be 1..4095 bytes");
    if (e.type == EntryType::kDirectory) index.emplace(e.path, i);
    out.children[it->second].push_back(i);
    out.names[i] = std::move(name);
  }
  for (auto& kids : out.children)
    std::sort(kids.begin(), kids.end(),
              [&](size_t a, size_t b) { return out.names[a] < out.names[b]; });
  return out;
}

}  // namespace nestbox::composer::squashfs
