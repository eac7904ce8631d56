// SourceTree::add_archive: libarchive readers for tar (any compression),
// OpenWrt .ipk and Debian .deb (whose data.tar.* member is streamed into a
// second reader, never unpacked to disk).
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>

#include "composer/path.h"
#include "composer/source_tree.h"
#include "util/fd.h"
#include "util/file_io.h"
#include "util/shown.h"

namespace nestbox::composer {
namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

// The compressions packages use, each decoded by a library libarchive links.
// Not archive_read_support_filter_all(): it adds lrzip, grzip and lzop,
// which libarchive runs as external programs found in PATH (a third party's
// bytes fed to whatever is installed under that name), plus uudecode.
ArchivePtr new_reader(bool any_format) {
  ArchivePtr a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_lzma(a.get());
  archive_read_support_filter_lzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_lz4(a.get());
  archive_read_support_filter_compress(a.get());
  if (any_format) {
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    archive_read_support_format_ar(a.get());
  } else {
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
  }
  return a;
}

std::string la_error(archive* a) {
  const char* e = archive_error_string(a);
  return e ? e : "unknown libarchive error";
}

// Streams the current member of `outer` as the input of an inner reader.
struct MemberStream {
  archive* outer;
  char buf[64 * 1024];
};

la_ssize_t member_read(archive*, void* ctx, const void** out) {
  auto* s = static_cast<MemberStream*>(ctx);
  la_ssize_t n = archive_read_data(s->outer, s->buf, sizeof s->buf);
  *out = s->buf;
  return n;
}

EntryType type_of(mode_t ft) {
  switch (ft) {
    case AE_IFDIR: return EntryType::kDirectory;
    case AE_IFLNK: return EntryType::kSymlink;
    case AE_IFCHR: return EntryType::kCharDevice;
    case AE_IFBLK: return EntryType::kBlockDevice;
    case AE_IFIFO: return EntryType::kFifo;
    case AE_IFSOCK: return EntryType::kSocket;
    default: return EntryType::kRegular;
  }
}

// What the tree's archives (their bytes on disk so far) may unpack to in all
// (source_tree.h: kUnpackRatio, kUnpackAllowance).
uint64_t unpack_budget(const SourceTree::ArchiveBudget& b, const IngestOptions& opts) {
  return std::max<uint64_t>(kUnpackAllowance, opts.max_file_size) +
         std::min<uint64_t>(b.archive_bytes, UINT64_MAX / 2 / kUnpackRatio) * kUnpackRatio;
}

// Counts `n` more bytes unpacked (data, headers, data skipped) against the
// bound the tree's archives share.
Status charge_unpacked(SourceTree* tree, const IngestOptions& opts, uint64_t n, const std::string& where) {
  SourceTree::ArchiveBudget& b = tree->archive_budget();
  b.unpacked += std::min<uint64_t>(n, UINT64_MAX / 4);
  uint64_t budget = unpack_budget(b, opts);
  if (b.unpacked <= budget) return ok_status();
  return bad_input(where + ": the image's archives unpack to more than " + std::to_string(budget) + " bytes (" +
                   std::to_string(kUnpackRatio) + " times their size plus at least " +
                   std::to_string(kUnpackAllowance) +
                   "): refused as a decompression bomb (rootfs.max_file_size raises the limit)");
}

class TarIngest {
 public:
  // The archive's bytes on disk are already counted in the tree's budget
  // (for a package, the whole .ipk or .deb).
  TarIngest(SourceTree* tree, std::string name, const IngestOptions& opts)
      : tree_(tree), name_(std::move(name)), opts_(opts) {}

  Status run(archive* a) {
    archive_entry* ae;
    for (;;) {
      int r = archive_read_next_header(a, &ae);
      if (r == ARCHIVE_EOF) return ok_status();
      if (r < ARCHIVE_WARN) return bad_input(name_ + ": " + la_error(a));
      NESTBOX_TRY(entry(a, ae));
    }
  }

 private:
  Status entry(archive* a, archive_entry* ae) {
    const char* raw = archive_entry_pathname(ae);
    std::string member = raw ? raw : "";
    std::string where = name_ + ": entry '" + shown(member) + "'";
    auto path = normalize_member(member, false);
    if (!path.ok()) return bad_input(where + ": " + path.error().message);
    if (!seen_.insert(*path).second) return bad_input(where + ": duplicate entry");
    // Every header, and the data of a member that is not extracted (libarchive
    // still inflates it to skip it), counts as unpacked: a bomb of a million
    // empty members, or of a huge link member, is stopped too.
    const bool extracted = !archive_entry_hardlink(ae) && type_of(archive_entry_filetype(ae)) == EntryType::kRegular;
    NESTBOX_TRY(charge(512 + (extracted ? 0 : static_cast<uint64_t>(std::max<la_int64_t>(archive_entry_size(ae), 0))),
                       where));

    // pax headers carry 64-bit ids: uid 4294967296 became 0 (root's) when
    // cut to 32 bits, silently.
    const la_int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);
    if (uid < 0 || gid < 0 || uid > la_int64_t{UINT32_MAX} || gid > la_int64_t{UINT32_MAX})
      return bad_input(where + ": owner " + std::to_string(uid) + ":" + std::to_string(gid) +
                       " out of range; expected a uid and gid from 0 to 4294967294");
    FsEntry e;
    e.path = *path;
    e.mode = archive_entry_perm(ae) & 07777;
    e.uid = static_cast<uint32_t>(uid);
    e.gid = static_cast<uint32_t>(gid);
    e.mtime = archive_entry_mtime(ae);
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(ae);
    while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK)
      e.xattrs.push_back({name, std::string(static_cast<const char*>(value), size)});
    // pax archives may carry the same xattr twice (LIBARCHIVE.xattr and
    // SCHILY.xattr headers): keep one per name.
    std::stable_sort(e.xattrs.begin(), e.xattrs.end(),
                     [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
    e.xattrs.erase(std::unique(e.xattrs.begin(), e.xattrs.end(),
                               [](const Xattr& a, const Xattr& b) { return a.name == b.name; }),
                   e.xattrs.end());

    if (const char* hl = archive_entry_hardlink(ae)) {
      auto target = normalize_member(hl, false);
      if (!target.ok())
        return bad_input(where + ": hardlink target: " + target.error().message);
      auto it = regular_.find(*target);
      if (it == regular_.end())
        return bad_input(where + ": hardlink target '" + std::string(hl) +
                         "' is not an earlier regular file of this archive");
      FsEntry linked = it->second;
      linked.path = e.path;
      NESTBOX_TRY(tree_->insert(std::move(linked), where, true));
      // A link to a refused setuid file is refused the same way.
      auto bad = tree_->violations().find(*target);
      if (bad != tree_->violations().end()) tree_->violation(e.path, bad->second);
      return ok_status();
    }

    e.type = type_of(archive_entry_filetype(ae));
    if (e.path == "/" && e.type != EntryType::kDirectory)
      return bad_input(where + ": the root must be a directory");
    if (e.type == EntryType::kSymlink) {
      const char* t = archive_entry_symlink(ae);
      e.link_target = t ? t : "";
      auto dest = symlink_destination(e.path, e.link_target);
      if (!dest.ok()) return bad_input(where + ": " + dest.error().message);
      e.mode = 0777;
    }
    if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice) {
      e.rdev_major = archive_entry_rdevmajor(ae);
      e.rdev_minor = archive_entry_rdevminor(ae);
    }
    if (e.type == EntryType::kRegular) e.size = archive_entry_size(ae);
    std::string violation;
    NESTBOX_TRY(apply_policy(&e, opts_, where, tree_, &violation));
    if (e.type == EntryType::kRegular) NESTBOX_TRY(extract(a, ae, &e, where));
    if (e.type == EntryType::kRegular) {
      e.link_id = new_link_id();  // a later hardlink member copies it: one inode in the image
      regular_[e.path] = e;
    }
    std::string member_path = e.path;
    NESTBOX_TRY(tree_->insert(std::move(e), where, true));
    if (!violation.empty()) tree_->violation(member_path, violation);
    return ok_status();
  }

  Status charge(uint64_t n, const std::string& where) { return charge_unpacked(tree_, opts_, n, where); }

  // Copies the member's bytes to a fresh blob in the scratch directory,
  // enforcing the size limit on what is actually read. Data blocks are
  // written at their offsets, so holes of a sparse member stay holes in the
  // blob, and the blob is then extended to the member's logical size: a
  // member that ends in a hole (or is all hole) keeps its full size of zeros.
  //
  // Every later step (content index, image and tree writers) reads or
  // writes those zeros, so the holes are bounded: a 400-byte tar.gz whose
  // sparse map declares a 1 TiB file made compose read a terabyte and the
  // tree writer fill the build host's disk. The holes of one archive's
  // members add up to at most kHoleAllowance, or rootfs.max_file_size when
  // the manifest sets a larger one, checked before any of it is written.
  Status extract(archive* a, archive_entry* ae, FsEntry* e, const std::string& where) {
    auto blob = tree_->new_blob_path();
    if (!blob.ok()) return std::move(blob).error();
    UniqueFd fd(open(blob->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return sys_error("create " + *blob);
    uint64_t end = 0, stored = 0;
    auto over = [&](uint64_t size) {
      return opts_.max_file_size && size > opts_.max_file_size;
    };
    const uint64_t hole_budget = std::max<uint64_t>(kHoleAllowance, opts_.max_file_size);
    auto too_sparse = [&](uint64_t size) -> Status {
      uint64_t holes = size > stored ? size - stored : 0;
      if (tree_->archive_budget().holes + holes <= hole_budget) return ok_status();
      return bad_input(where + ": sparse file of " + std::to_string(size) + " bytes stores only " +
                       std::to_string(stored) + " bytes of data; the holes of the image's archived files exceed " +
                       std::to_string(hole_budget) + " bytes (rootfs.max_file_size raises the limit)");
    };
    for (;;) {
      const void* buf;
      size_t n;
      la_int64_t offset;
      int r = archive_read_data_block(a, &buf, &n, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN || offset < 0) return bad_input(where + ": " + la_error(a));
      uint64_t block_end = static_cast<uint64_t>(offset) + n;
      if (over(block_end))
        return bad_input(where + ": file over the size limit of " +
                         std::to_string(opts_.max_file_size));
      stored += n;
      NESTBOX_TRY(too_sparse(block_end));
      // A decompression bomb (bzip2 packs 2 GiB of zeros into 1.5 KB, and
      // an .ipk nests two compressed layers) is stopped as it unpacks, not
      // after it has filled the build host's disk.
      NESTBOX_TRY(charge(n, where));
      const char* p = static_cast<const char*>(buf);
      for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(fd.get(), p + done, n - done, offset + static_cast<off_t>(done));
        if (w < 0) {
          if (errno == EINTR) continue;
          return sys_error("write " + *blob);
        }
        done += static_cast<size_t>(w);
      }
      end = std::max(end, block_end);
    }
    // The logical size: for a sparse member, what the sparse map declares
    // (libarchive reports it as the entry's size). A plain member that is
    // short is already a libarchive error ("Truncated tar archive").
    la_int64_t declared = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
    uint64_t size = std::max<uint64_t>(end, declared > 0 ? static_cast<uint64_t>(declared) : 0);
    if (over(size))
      return bad_input(where + ": file over the size limit of " + std::to_string(opts_.max_file_size));
    NESTBOX_TRY(too_sparse(size));
    tree_->archive_budget().holes += size > stored ? size - stored : 0;
    if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return sys_error("truncate " + *blob);
    e->source_path = *blob;
    e->size = size;
    return ok_status();
  }

  SourceTree* tree_;
  std::string name_;
  IngestOptions opts_;
  std::set<std::string> seen_;
  std::map<std::string, FsEntry> regular_;
};

// The archive, opened once: a regular file (a FIFO would hang the build on
// open or read, a device such as /dev/zero would never end), read through
// this descriptor. Its size bounds what it may unpack to.
struct OpenedArchive {
  UniqueFd fd;
  uint64_t size = 0;
};

Result<OpenedArchive> open_file(archive* a, const std::string& path) {
  OpenedArchive out;
  out.fd = UniqueFd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!out.fd) return sys_error("open " + path);
  struct stat st;
  if (fstat(out.fd.get(), &st) != 0) return sys_error("stat " + path);
  if (!S_ISREG(st.st_mode)) return bad_input(path + ": not a regular file; expected a .tar, .ipk or .deb archive");
  if (fcntl(out.fd.get(), F_SETFL, O_RDONLY) != 0) return sys_error("fcntl " + path);
  out.size = static_cast<uint64_t>(st.st_size);
  if (archive_read_open_fd(a, out.fd.get(), 64 * 1024) != ARCHIVE_OK)
    return bad_input(path + ": " + la_error(a));
  return out;
}

// .ipk / .deb: find the data.tar.* member of the outer container (ar, or a
// tar.gz for OpenWrt's newer ipk) and read it as a tar stream.
Status ingest_package(SourceTree* tree, const std::string& path, const IngestOptions& opts) {
  ArchivePtr outer = new_reader(true);
  auto file = open_file(outer.get(), path);
  if (!file.ok()) return std::move(file).error();
  archive_entry* ae;
  // Members skipped on the way to data.tar.* are inflated too (a tar.gz
  // .ipk): they count against the same bound as what is unpacked.
  tree->archive_budget().archive_bytes += file->size;
  for (;;) {
    int r = archive_read_next_header(outer.get(), &ae);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return bad_input(path + ": " + la_error(outer.get()));
    const char* raw = archive_entry_pathname(ae);
    std::string name = raw ? raw : "";
    if (name.rfind("./", 0) == 0) name = name.substr(2);
    if (name.rfind("data.tar", 0) != 0) {
      NESTBOX_TRY(charge_unpacked(
          tree, opts,
          512 + static_cast<uint64_t>(std::min<la_int64_t>(std::max<la_int64_t>(archive_entry_size(ae), 0), INT64_MAX / 4)),
          path + ": " + name));
      continue;
    }
    MemberStream stream{outer.get(), {}};
    ArchivePtr inner = new_reader(false);
    if (archive_read_open(inner.get(), &stream, nullptr, member_read, nullptr) != ARCHIVE_OK)
      return bad_input(path + ": " + name + ": " + la_error(inner.get()));
    TarIngest ingest(tree, path + ": " + name, opts);
    return ingest.run(inner.get());
  }
  return bad_input(path + ": no data.tar member (not an .ipk or .deb package)");
}

}  // namespace

Status SourceTree::add_archive(const std::string& path, manifests::SourceKind kind,
                               const IngestOptions& opts) {
  if (kind == manifests::SourceKind::kIpk || kind == manifests::SourceKind::kDeb)
    return ingest_package(this, path, opts);
  ArchivePtr a = new_reader(false);
  auto file = open_file(a.get(), path);
  if (!file.ok()) return std::move(file).error();
  archive_budget_.archive_bytes += file->size;
  TarIngest ingest(this, path, opts);
  return ingest.run(a.get());
}

}  // namespace nestbox::composer
