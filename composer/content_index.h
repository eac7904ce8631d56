// Content index: every distinct regular file of a set of trees gets a content
// id; only identical files share one, which is what output writers share.
// Files whose size another file (inode) has too are read once, hashed with
// XXH3-128 and SHA-256 in the same pass, spread over the available cores
// (results land in a fixed slot per file, so thread timing never shows in the
// output); equal size and SHA-256 give one id (never XXH3 alone). A file of a
// size no other has is not read at all: nothing can equal it, and the writer
// reads it once anyway.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "composer/fs_tree.h"
#include "util/result.h"

namespace nestbox::composer {

struct ContentInfo {
  ContentHash hash;            // zero when no other file has this size (not read)
  uint64_t size = 0;
  uint32_t id = 0;            // equal ids <=> byte-identical content
  std::string representative;  // first source path (sorted) with this content
};

class ContentIndex {
 public:
  // Hashes the regular entries of `trees` and fills in their FsEntry::hash
  // and content_id.
  // threads == 0: one per core.
  static Result<ContentIndex> build(const std::vector<FsTree*>& trees, unsigned threads = 0);

  // Hashes a list of host files (used by the benchmark and tests).
  static Result<ContentIndex> build_files(std::vector<std::string> files, unsigned threads = 0);

  // Content of a source path given to build(); nullptr when unknown.
  const ContentInfo* find(const std::string& source_path) const;
  size_t distinct_contents() const { return distinct_; }
  uint64_t bytes_hashed() const { return bytes_; }
  // Contents with equal size and XXH3 but different SHA-256.
  uint64_t hash_collisions() const { return collisions_; }

 private:
  std::map<std::string, ContentInfo> by_path_;
  size_t distinct_ = 0;
  uint64_t bytes_ = 0;
  uint64_t collisions_ = 0;
};

// XXH3-128 of a host file (streamed), as ContentHash.
Result<ContentHash> hash_file(const std::string& path, uint64_t* size);
// Whether two host files have identical bytes (one inode: without reading).
Result<bool> same_bytes(const std::string& a, const std::string& b);

// Whether two regular entries hold the same bytes: equal content ids when
// both were indexed (together); otherwise equal size (and equal hashes where
// both were computed) confirmed by comparing the source files byte for byte.
// A hash is never trusted alone: XXH3 is not collision resistant, and
// sources can be a third party's. A read error answers false (nothing is
// shared).
bool same_content(const FsEntry& a, const FsEntry& b);

}  // namespace nestbox::composer
