// Content-addressed store of compressed squashfs blocks, shared by every image
// built in one run and (with a directory) persisted across runs.
//
// Key: SHA-256 (first 128 bits) over (kind, SHA-256 of the content,
// compressor fingerprint incl. options and block size). Never the content
// index's XXH3: that is not collision resistant, and a third party's file
// made to collide with another's would be handed the other's blocks. A file entry holds the compressed full blocks of one file
// content; a fragment entry holds one compressed fragment block. Each entry on
// disk ends with an XXH3-128 of its bytes; an entry that fails the check is
// reported as corrupt, never returned, and rebuilt by the caller.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "composer/fs_tree.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::composer::squashfs {

struct StoreKey {
  uint64_t high = 0, low = 0;
  auto operator<=>(const StoreKey&) const = default;
};

// kFileBlocks: all full blocks of a file of a few blocks; kDataBlock: one
// full block of a file of many (keyed by its own bytes); kFragmentBlock: one
// fragment block. The kRun* kinds are the same entries keyed by the run's
// content ids (run_digest) instead of a SHA-256 of the bytes: only in a
// store of one run, whose ids are those of one content index (equal ids,
// equal SHA-256); the caller must not give one such store trees numbered by
// two indexes (as it must not for remember/recall). The kind is part of
// every key, so a key of one family never equals a key of the other,
// whatever bytes a file holds.
enum class EntryKind : uint8_t {
  kFileBlocks = 1,
  kFragmentBlock = 2,
  kDataBlock = 3,
  kRunFileBlocks = 4,     // run_digest({content id})
  kRunDataBlock = 5,      // run_digest({content id, block number})
  kRunFragmentBlock = 6,  // run_digest({content id, tail size} of each tail in order)
};

// SHA-256 of the bytes an entry stands for (a file's content, a block), by
// the verifier's crypto (verifier/crypto.h, crypto::Sha256 for pieces).
struct ContentDigest {
  std::array<uint8_t, 32> bytes{};
};
ContentDigest content_digest(const void* data, size_t size);
// A digest standing for the numbers of a kRun* entry (64-bit little-endian
// each), without reading the bytes they name.
ContentDigest run_digest(const std::vector<uint64_t>& parts);
StoreKey make_store_key(EntryKind kind, const ContentDigest& content, const std::string& fingerprint);

struct StoreEntry {
  std::vector<uint32_t> words;  // squashfs on-disk size words (bit 24: stored uncompressed)
  std::string data;             // the blocks' bytes, concatenated
};

// What one content became in an image written earlier in the same run: the
// keys of its full blocks' entries, in order, and where its tail bytes were
// kept. Content ids are the run's content index's (equal bytes, compared),
// so a later image takes this without reading or hashing the file again.
struct WrittenContent {
  std::vector<StoreKey> blocks;
  uint64_t tail_offset = 0;
  uint32_t tail_size = 0;
};

struct StoreStats {
  uint64_t hits = 0, misses = 0, corrupt = 0, stored = 0;
};

class BlockStore {
 public:
  // An empty `dir` makes a disabled store (every lookup misses, puts are dropped).
  static Result<BlockStore> open(const std::string& dir);
  // A store for one run only (images of one compose share it, nothing is
  // kept): entries appended to one file created in `dir`, located through an
  // index in memory. A directory store costs a file per entry (create, write,
  // rename, and at each hit open, read, touch), which with a fast compressor
  // costs more than compressing the block again.
  static Result<BlockStore> open_for_one_run(const std::string& dir);

  bool enabled() const { return !dir_.empty() || pack_; }
  enum class Lookup { kMiss, kHit, kCorrupt };
  // `max_block` bounds each block's on-disk size (the image block size).
  Lookup get(const StoreKey& key, uint32_t max_block, StoreEntry* out);
  Status put(const StoreKey& key, const StoreEntry& entry);
  const StoreStats& stats() const { return stats_; }
  std::string path_of(const StoreKey& key) const;

  // The store of one run remembers what each indexed content became, per
  // compressor fingerprint (a directory store remembers nothing: ids are
  // the run's own).
  bool remembers() const { return static_cast<bool>(pack_); }
  Status remember(uint32_t content_id, const std::string& fingerprint, std::vector<StoreKey> blocks,
                  const char* tail, uint32_t tail_size);
  const WrittenContent* recall(uint32_t content_id, const std::string& fingerprint) const;
  Status read_tail(const WrittenContent& w, std::string* out) const;

 private:
  struct Packed {
    uint64_t offset = 0;
    std::vector<uint32_t> words;
    uint64_t size = 0;
  };
  Lookup get_packed(const StoreKey& key, StoreEntry* out);
  Status put_packed(const StoreKey& key, const StoreEntry& entry);

  std::string dir_;
  UniqueFd pack_;  // open_for_one_run: the entries' bytes, back to back
  uint64_t pack_end_ = 0;
  std::map<StoreKey, Packed> packed_;
  std::map<std::pair<uint32_t, std::string>, WrittenContent> written_;
  StoreStats stats_;
};

}  // namespace nestbox::composer::squashfs
