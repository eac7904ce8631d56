// The composed filesystem tree of one container: what selection and the ELF
// closure decided, with final owners, modes and content references. Produced
// by the composer's selection stage, consumed by every output writer (tree,
// host-hardlink, squashfs, overlay) and by the tree digest of the signer.
//
// Invariants: paths are absolute, normalised ("/usr/bin/x"), unique; every
// parent directory is present; entries are sorted by path (byte order), so
// output never depends on readdir order or thread timing.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nestbox::composer {

// The longest path any output holds, and the longest host path a source's
// file may be read from (Linux PATH_MAX less its NUL): the writers open paths
// relative to the tree they write, and one longer fails with ENAMETOOLONG
// only in compose. Checked before the parents are made: a member 100000
// directories deep made each parent's path, quadratic memory (20 GB).
inline constexpr size_t kMaxPathBytes = 4095;

enum class EntryType { kDirectory, kRegular, kSymlink, kCharDevice, kBlockDevice, kFifo, kSocket };

struct Xattr {
  std::string name;   // "security.capability", "user.foo"
  std::string value;  // raw bytes
  auto operator<=>(const Xattr&) const = default;
};

// 128-bit XXH3 content hash (content index key). Equality of hashes is always
// confirmed by byte comparison before content is shared.
struct ContentHash {
  uint64_t high = 0, low = 0;
  auto operator<=>(const ContentHash&) const = default;
};

inline constexpr uint32_t kNoContentId = UINT32_MAX;

struct FsEntry {
  std::string path;        // "/" for the root
  EntryType type = EntryType::kRegular;
  uint32_t mode = 0;       // permission bits incl. setuid/setgid/sticky, no S_IFMT
  uint32_t uid = 0, gid = 0;
  int64_t mtime = 0;       // seconds; clamped to SOURCE_DATE_EPOCH when set
  std::vector<Xattr> xattrs;  // sorted by name

  // kRegular: where the bytes are. `source_path` is a readable host file with
  // exactly `size` bytes (a staging file, or a file the composer extracted).
  std::string source_path;
  uint64_t size = 0;
  // A host tree's file: the inode its walk saw, which every later open must
  // find again (composer/source_file.h). 0: the composer's own file.
  uint64_t source_dev = 0, source_ino = 0;
  // Zero when not hashed: not indexed, or indexed with a size no other
  // indexed file has (then its content id alone says it is unique).
  ContentHash hash;
  // The content index's id (composer/content_index.h): entries indexed
  // together with equal ids hold byte-identical content (confirmed by
  // comparison, never by the hash alone). kNoContentId: not indexed.
  uint32_t content_id = kNoContentId;
  std::string link_target;  // kSymlink
  uint32_t rdev_major = 0, rdev_minor = 0;  // devices
  // Non-directories: entries with the same non-zero id were one inode (hard
  // links) in their source. Only equality matters (the value never reaches
  // an image); the squashfs writer gives such entries one inode when their
  // metadata and content are identical too (squashfs/hard_links.h).
  uint64_t link_id = 0;
};

// A fresh link_id, unique in this process: trees of several sources (and the
// overlay base built from several containers) never share one by accident.
inline uint64_t new_link_id() {
  static std::atomic<uint64_t> next{0};
  return ++next;
}

struct FsTree {
  std::vector<FsEntry> entries;  // sorted by path, root first
};

}  // namespace nestbox::composer
