// The merged content of a container's sources before selection: staging
// directories and archives (tar in any compression, OpenWrt .ipk, Debian
// .deb) layered in manifest order, plus the manifest's extra dirs, files,
// symlinks and device table. Archive members are never written by their own
// names: regular file bytes go to numbered blobs in a scratch directory the
// caller owns, so no member name can reach the host file system.
//
// Hostile input is refused with "<source>: entry '<name>': <why>": ".."
// components, absolute member paths, symlinks whose relative target climbs
// above the root, hardlinks to anything but an earlier regular file of the
// same archive, a path through a symlink or a non-directory, a duplicate
// member, a device node from an untrusted source, setuid/setgid bits where
// the policy refuses them, a file over the size limit, sparse members whose
// holes add up to more than kHoleAllowance (or rootfs.max_file_size), an
// image's archives that unpack to more than kUnpackRatio times their size
// plus kUnpackAllowance (a decompression bomb), an archive path that is not a
// regular file (a FIFO or device), a name over 255 bytes, a path over 4095
// bytes (in the image, or on the build host for a staging file), a symlink
// target empty or over 4095 bytes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "composer/fs_tree.h"
#include "composer/root_view.h"
#include "composer/staging_root.h"
#include "manifests/model.h"
#include "util/result.h"

namespace nestbox::composer {

enum class SetuidPolicy {
  kKeep,    // the manifest allows setuid/setgid files
  kStrip,   // neutralise: clear the bits and record it in the report
  kRefuse,  // fail naming the source and entry, when the entry is selected
};

// How many bytes of holes the sparse members of one archive may declare in
// all (beyond the data they store) unless rootfs.max_file_size is larger:
// every hole is read, and written by the tree writers, as zeros.
inline constexpr uint64_t kHoleAllowance = 64ull << 20;
// The longest name (path component) and symlink target any output holds.
inline constexpr size_t kMaxNameBytes = 255;
inline constexpr size_t kMaxLinkTargetBytes = 4095;
// What the members of one image's archives may hold in all: kUnpackRatio
// times the archives' size on disk plus one kUnpackAllowance (or
// rootfs.max_file_size when larger) for them all, not one per archive (a
// hundred small archives would otherwise bring a hundred allowances). Real packages unpack to a few times their size; a decompression
// bomb (bzip2 packs 2 GiB of zeros into 1.5 KB) is refused as it unpacks.
inline constexpr uint64_t kUnpackRatio = 1000;
inline constexpr uint64_t kUnpackAllowance = 256ull << 20;

struct IngestOptions {
  bool trusted = true;                 // untrusted: setuid files are refused, not stripped
  SetuidPolicy setuid = SetuidPolicy::kRefuse;
  uint64_t max_file_size = 0;          // 0 = no limit
  // Keep security.capability xattrs (rootfs.allow_file_caps); otherwise
  // they are removed and the report says so.
  bool allow_file_caps = false;
  // Paths the manifest declares as [[rootfs.device]]: the only places a
  // source may carry a device node or FIFO (the manifest's entry replaces it).
  std::set<std::string> declared_nodes;
};

class SourceTree {
 public:
  // `scratch_dir` must exist and belong to the caller (inside its work dir).
  explicit SourceTree(std::string scratch_dir);

  // A staging directory's subtree never ingested: where host-hardlink trees
  // are written (compose --hardlink-dir), so a previous run's output does not
  // feed the next one.
  void exclude(std::string path) { excluded_ = std::move(path); }

  // Adds a staging directory (not following symlinks), read in sorted order.
  Status add_directory(const std::string& dir, const IngestOptions& opts);
  // Adds an archive: kTar (any compression), kIpk, kDeb (data.tar.* inside).
  Status add_archive(const std::string& path, manifests::SourceKind kind,
                     const IngestOptions& opts);
  // Adds every source of the manifest in order, then its extra dirs, files,
  // symlinks and device nodes (the manifest itself is trusted). When a
  // [[rootfs.source]] fails, its index goes to *failed_source (if given), so
  // the caller can place the error at that source.
  Status add_manifest(const manifests::Manifest& m, std::optional<size_t>* failed_source = nullptr);
  Status add_extras(const manifests::Rootfs& r, const std::string& manifest_dir);
  // Directories for the mounts the policy makes (/proc, /dev, /sys, tmpfs and
  // storage targets) where the tree has nothing: the launcher mounts on them,
  // and a missing one would fail only on the device. A target beneath a
  // symlink or a file is left to the launcher (resolved in the root there).
  Status add_mount_points(const manifests::Manifest& m);
  Status add_ipc_mount_point(const manifests::Manifest& m);

  const std::map<std::string, FsEntry>& entries() const { return entries_; }
  // Paths the manifest itself adds (extras, devices): always selected.
  const std::vector<std::string>& forced() const { return forced_; }
  // Entries no source gave (the manifest's extras, mount points, parents
  // made for them): their time is SOURCE_DATE_EPOCH when it is set.
  bool made(const std::string& path) const { return made_.count(path) != 0; }
  // Notes for the report (e.g. setuid bits stripped), in order, each with
  // the path it concerns (so only notes about selected entries are shown).
  const std::vector<std::pair<std::string, std::string>>& notes() const { return notes_; }
  // A RootView over the merged content, for the ELF closure.
  std::unique_ptr<RootView> view() const;

  // Internal, used by the readers: inserts one entry after the checks that
  // depend on the tree (parents, duplicates). `origin` prefixes messages.
  Status insert(FsEntry e, const std::string& origin, bool replace_ok);
  Result<std::string> new_blob_path();
  void note(std::string path, std::string n) { notes_.push_back({std::move(path), std::move(n)}); }
  // A refused setuid entry: an error only if selection takes it (a staging
  // rootfs may hold setuid programs the container never sees). Cleared when
  // a later layer replaces the entry.
  void violation(std::string path, std::string message) {
    violations_[std::move(path)] = std::move(message);
  }
  const std::map<std::string, std::string>& violations() const { return violations_; }

  // What the archives added so far weigh, shared by all of them: the bounds
  // on unpacked bytes and on holes hold for the tree, not per archive.
  struct ArchiveBudget {
    uint64_t archive_bytes = 0;  // on disk, of every archive added
    uint64_t unpacked = 0;       // headers, data and skipped members inflated
    uint64_t holes = 0;          // of the sparse members extracted
  };
  ArchiveBudget& archive_budget() { return archive_budget_; }

 private:
  std::string scratch_;
  std::string excluded_ = kDefaultHardlinkDir;
  uint64_t blob_counter_ = 0;
  std::map<std::string, FsEntry> entries_;
  std::vector<std::pair<std::string, std::string>> notes_;
  std::vector<std::string> forced_;
  std::set<std::string> made_;
  std::map<std::string, std::string> violations_;
  ArchiveBudget archive_budget_;
};

// Checks shared by every reader: setuid policy, device trust, xattr names
// from untrusted sources, size limit. May rewrite `e` (stripping setuid
// bits). `where` is "<source>: entry 'x'". Sets *violation to the message of
// an entry refused only if selected, which the reader records after
// inserting the entry.
Status apply_policy(FsEntry* e, const IngestOptions& opts, const std::string& where,
                    SourceTree* tree, std::string* violation);

}  // namespace nestbox::composer
