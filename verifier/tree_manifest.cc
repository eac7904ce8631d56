#include "verifier/tree_manifest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "util/fd.h"
#include "verifier/crypto.h"

namespace nestbox::verifier {

namespace {

std::string escape(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7e || c == '%' || c == ',' || c == '=') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::optional<std::string> unescape(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
    out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
    i += 2;
  }
  if (out.find('\0') != std::string::npos) return std::nullopt;
  return out;
}

std::string octal(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", v);
  return buf;
}

// Every entry is reached from its parent's descriptor (openat O_NOFOLLOW),
// never by joining path strings: a rename or a symlink swapped into a parent
// during the walk cannot lead it outside the tree it was given.
Result<std::string> fd_digest(int fd, const std::string& rel, uint64_t* size) {
  crypto::Sha256 h;
  char buf[65536];
  *size = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + rel);
    if (n == 0) break;
    h.update(buf, static_cast<size_t>(n));
    *size += static_cast<uint64_t>(n);
  }
  std::string d = h.finish();
  if (!h.ok()) return failure("sha256 " + rel);
  return crypto::to_hex(d);
}

// Where an entry's extended attributes are read: its own open descriptor, or
// (symlinks, device nodes, FIFOs, sockets, which are never opened) its name
// in its parent's descriptor, through /proc/self/fd/DIRFD/NAME with the
// l-variants (the last component is not followed).
struct XattrSource {
  int fd = -1;
  std::string proc_path;
  ssize_t list(char* buf, size_t n) const {
    return fd >= 0 ? ::flistxattr(fd, buf, n) : ::llistxattr(proc_path.c_str(), buf, n);
  }
  ssize_t get(const char* name, void* buf, size_t n) const {
    return fd >= 0 ? ::fgetxattr(fd, name, buf, n) : ::lgetxattr(proc_path.c_str(), name, buf, n);
  }
};

Result<std::string> xattrs_of(const XattrSource& src, const std::string& rel) {
  ssize_t n = src.list(nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP) return std::string("-");
    return sys_error("listxattr " + rel);
  }
  std::string names(static_cast<size_t>(n), '\0');
  n = src.list(names.data(), names.size());
  if (n < 0) return sys_error("listxattr " + rel);
  names.resize(static_cast<size_t>(n));
  std::vector<std::string> list;
  for (size_t p = 0; p < names.size();) {
    size_t e = names.find('\0', p);
    if (e == std::string::npos) e = names.size();
    if (e > p) list.push_back(names.substr(p, e - p));
    p = e + 1;
  }
  if (list.empty()) return std::string("-");
  std::sort(list.begin(), list.end());
  std::string out;
  for (const std::string& name : list) {
    ssize_t vn = src.get(name.c_str(), nullptr, 0);
    if (vn < 0) return sys_error("getxattr " + rel + " " + name);
    std::string value(static_cast<size_t>(vn), '\0');
    vn = src.get(name.c_str(), value.data(), value.size());
    if (vn < 0) return sys_error("getxattr " + rel + " " + name);
    value.resize(static_cast<size_t>(vn));
    if (!out.empty()) out += ',';
    out += escape(name) + "=" + crypto::to_hex(value);
  }
  return out;
}

// Filesystems nobody can write through any mount (the superblock itself is
// read-only): what was hashed stays what is read. A read-only *mount*
// (statvfs ST_RDONLY) proves nothing: the same filesystem may be mounted
// writable elsewhere, or remounted.
bool immutable_fs(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0x73717368UL:  // squashfs
    case 0xE0F5E1E2UL:  // erofs
    case 0x28cd3d45UL:  // cramfs
    case 0x9660UL:      // iso9660
    case 0x7275UL:      // romfs
      return true;
    default:
      return false;
  }
}

struct Walk {
  const ManifestSink& sink;
  const TreeRules& rules;
  bool check_writers = false;  // rules.only_root_writes and a writable filesystem
  dev_t root_dev = 0;
};

// rules.only_root_writes: nobody but root may be able to change the entry
// after it was hashed (owner 0, no group or other write bit; a symlink's own
// mode is meaningless, its parent directory guards it). A directory on
// another filesystem is a mount inside the tree: its contents would not be
// what a non-recursive bind of the tree shows.
Status check_entry(const Walk& w, const std::string& rel, const struct stat& st) {
  if (!w.rules.only_root_writes) return ok_status();
  if (S_ISDIR(st.st_mode) && st.st_dev != w.root_dev)
    return failure("tree: " + rel + ": a mount point inside the tree (the tree must be one filesystem)");
  if (!w.check_writers) return ok_status();
  if (st.st_uid != 0)
    return failure("tree: " + rel + ": owned by uid " + std::to_string(st.st_uid) +
                   ", not root: it could be changed after it was verified");
  if (!S_ISLNK(st.st_mode) && (st.st_mode & 022))
    return failure("tree: " + rel + ": writable by group or others (mode " + octal(st.st_mode & 07777) +
                   "): it could be changed after it was verified");
  return ok_status();
}

// The opened entry must be the one fstatat saw (nothing renamed in between).
Status same_inode(int fd, const struct stat& seen, const std::string& rel, struct stat* now) {
  if (::fstat(fd, now) != 0) return sys_error("stat " + rel);
  if (now->st_ino != seen.st_ino || now->st_dev != seen.st_dev || (now->st_mode & S_IFMT) != (seen.st_mode & S_IFMT))
    return failure("tree: " + rel + ": changed while it was verified");
  return ok_status();
}

Result<std::string> entry_line(int parent, const char* name, int own_fd, const std::string& rel,
                               const struct stat& st) {
  char type = '?';
  std::string content = "-";
  XattrSource xs;
  xs.fd = own_fd;
  if (own_fd < 0) xs.proc_path = "/proc/self/fd/" + std::to_string(parent) + "/" + name;
  switch (st.st_mode & S_IFMT) {
    case S_IFDIR: type = 'd'; break;
    case S_IFREG: {
      type = 'f';
      uint64_t size = 0;
      auto d = fd_digest(own_fd, rel, &size);
      if (!d.ok()) return std::move(d).error();
      content = std::to_string(size) + ":" + *d;
      break;
    }
    case S_IFLNK: {
      type = 'l';
      std::string target(4096, '\0');
      ssize_t n = ::readlinkat(parent, name, target.data(), target.size());
      if (n < 0) return sys_error("readlink " + rel);
      target.resize(static_cast<size_t>(n));
      content = escape(target);
      break;
    }
    case S_IFCHR:
    case S_IFBLK:
      type = S_ISCHR(st.st_mode) ? 'c' : 'b';
      content = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
      break;
    case S_IFIFO: type = 'p'; break;
    case S_IFSOCK: type = 's'; break;
  }
  auto x = xattrs_of(xs, rel);
  if (!x.ok()) return std::move(x).error();
  return escape(rel) + " " + type + " " + octal(st.st_mode & 07777) + " " + std::to_string(st.st_uid) + " " +
         std::to_string(st.st_gid) + " " + content + " " + *x;
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

Result<std::vector<std::string>> sorted_names(int dir_fd, const std::string& rel) {
  int copy = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return sys_error("open " + rel);
  std::unique_ptr<DIR, DirCloser> d(::fdopendir(copy));
  if (!d) {
    ::close(copy);
    return sys_error("open " + rel);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  if (errno != 0) return sys_error("read " + rel);
  std::sort(names.begin(), names.end());
  return names;
}

Status walk_dir(const Walk& w, int dir_fd, const std::string& rel) {
  auto names = sorted_names(dir_fd, rel);
  if (!names.ok()) return std::move(names).error();
  for (const std::string& n : *names) {
    std::string child_rel = (rel == "/" ? "/" : rel + "/") + n;
    struct stat st;
    if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return sys_error("stat " + child_rel);
    NESTBOX_TRY(check_entry(w, child_rel, st));
    UniqueFd own;
    if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
      int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
      if (S_ISDIR(st.st_mode)) flags |= O_DIRECTORY;
      own = UniqueFd(::openat(dir_fd, n.c_str(), flags));
      if (!own) return sys_error("open " + child_rel);
      struct stat now;
      NESTBOX_TRY(same_inode(own.get(), st, child_rel, &now));
      st = now;
      NESTBOX_TRY(check_entry(w, child_rel, st));
      // Owner and mode do not stop a descriptor opened for writing before a
      // chown or chmod: it could change the file after this hash.
      if (w.check_writers && S_ISREG(st.st_mode)) NESTBOX_TRY_CTX(check_no_writer(own.get()), "tree: " + child_rel);
    }
    auto line = entry_line(dir_fd, n.c_str(), own ? own.get() : -1, child_rel, st);
    if (!line.ok()) return std::move(line).error();
    NESTBOX_TRY(w.sink(*line));
    if (S_ISDIR(st.st_mode)) NESTBOX_TRY(walk_dir(w, own.get(), child_rel));
  }
  return ok_status();
}

// Reads the manifest region line by line from the image, hashing it.
class ManifestReader {
 public:
  ManifestReader(int fd, uint64_t offset, uint64_t size) : fd_(fd), pos_(offset), left_(size) {}

  // Next line without '\n'; false at the end. Lines over 64 KiB are an error.
  Result<bool> next(std::string* line) {
    line->clear();
    for (;;) {
      if (start_ < buf_.size()) {
        size_t nl = buf_.find('\n', start_);
        if (nl != std::string::npos) {
          line->assign(buf_, start_, nl - start_);
          start_ = nl + 1;
          return true;
        }
      }
      if (left_ == 0) {
        if (start_ < buf_.size()) return bad_input("tree manifest: last line has no newline");
        return false;
      }
      buf_.erase(0, start_);
      start_ = 0;
      if (buf_.size() > 65536) return bad_input("tree manifest: line longer than 64 KiB");
      char chunk[16384];
      size_t want = left_ < sizeof chunk ? static_cast<size_t>(left_) : sizeof chunk;
      ssize_t n = ::pread(fd_, chunk, want, static_cast<off_t>(pos_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("tree manifest: read");
      if (n == 0) return bad_input("tree manifest: unexpected end of file");
      hash_.update(chunk, static_cast<size_t>(n));
      buf_.append(chunk, static_cast<size_t>(n));
      pos_ += static_cast<uint64_t>(n);
      left_ -= static_cast<uint64_t>(n);
    }
  }
  // Reads the rest (hashing it) and returns the digest (hex).
  Result<std::string> finish() {
    std::string line;
    for (;;) {
      auto more = next(&line);
      if (!more.ok()) return std::move(more).error();
      if (!*more) break;
    }
    std::string d = hash_.finish();
    if (!hash_.ok()) return failure("tree manifest: sha256");
    return crypto::to_hex(d);
  }

 private:
  int fd_;
  uint64_t pos_, left_;
  std::string buf_;
  size_t start_ = 0;
  crypto::Sha256 hash_;
};

std::string path_of(std::string_view line) { return std::string(line.substr(0, line.find(' '))); }

}  // namespace

std::string escape_tree_field(std::string_view s) { return escape(s); }

Result<UniqueFd> open_tree_root(const std::string& root) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    if (errno == ENOTDIR || errno == ELOOP) return bad_input(root + ": not a directory");
    return sys_error("open " + root);
  }
  return fd;
}

Status walk_tree_fd(int root_fd, const ManifestSink& sink, const TreeRules& rules) {
  struct stat st;
  if (::fstat(root_fd, &st) != 0) return sys_error("stat /");
  if (!S_ISDIR(st.st_mode)) return bad_input("/: not a directory");
  Walk w{sink, rules, rules.only_root_writes && !immutable_fs(root_fd), st.st_dev};
  // On a writable filesystem: never FUSE or a network filesystem (their
  // server, not the inode, decides what a later read returns).
  if (w.check_writers) NESTBOX_TRY_CTX(check_only_root_writes(root_fd), "tree: /");
  NESTBOX_TRY(check_entry(w, "/", st));
  NESTBOX_TRY(sink(kTreeManifestHeader));
  auto line = entry_line(-1, "", root_fd, "/", st);
  if (!line.ok()) return std::move(line).error();
  NESTBOX_TRY(sink(*line));
  return walk_dir(w, root_fd, "/");
}

Status walk_tree(const std::string& root, const ManifestSink& sink) {
  auto fd = open_tree_root(root);
  if (!fd.ok()) return std::move(fd).error();
  return walk_tree_fd(fd->get(), sink, {});
}

Result<std::string> tree_location(int image_fd, const ImageInfo& info) {
  if (!info.tree_manifest) return bad_input("the image carries a squashfs, not a tree manifest");
  ManifestReader reader(image_fd, info.squashfs_offset, info.squashfs_size);
  std::string line;
  for (int i = 0; i < 2; ++i) {
    auto more = reader.next(&line);
    if (!more.ok()) return std::move(more).error();
    if (!*more) return bad_input("tree manifest: empty");
    if (i == 0 && line != kTreeManifestHeader) return bad_input("tree manifest: unknown header");
  }
  std::string where;
  if (line.rfind(kTreeLocationPrefix, 0) != 0) return where;  // none signed: the caller's default
  auto loc = unescape(line.substr(kTreeLocationPrefix.size()));
  if (!loc || loc->empty() || (*loc)[0] != '/' || loc->find("/../") != std::string::npos ||
      loc->find("/./") != std::string::npos || loc->find("//") != std::string::npos ||
      (loc->size() >= 3 && loc->compare(loc->size() - 3, 3, "/..") == 0) ||
      (loc->size() >= 2 && loc->compare(loc->size() - 2, 2, "/.") == 0) || loc->back() == '/')
    return bad_input("tree manifest: location '" + line.substr(kTreeLocationPrefix.size()) +
                     "' is not a normalised absolute path");
  return *loc;
}

Status verify_tree_fd(int image_fd, const ImageInfo& info, int root_fd, const TreeRules& rules) {
  if (!info.tree_manifest) return bad_input("the image carries a squashfs, not a tree manifest");
  ManifestReader reader(image_fd, info.squashfs_offset, info.squashfs_size);
  std::string expected, first_difference;
  int line_no = 0;
  Status walked = walk_tree_fd(root_fd, [&](std::string_view actual) -> Status {
    if (!first_difference.empty()) return ok_status();
    auto more = reader.next(&expected);
    if (!more.ok()) return std::move(more).error();
    // The signed location (after the header) says where the tree lives on
    // the device; it is not an entry.
    if (++line_no == 2 && *more && expected.rfind(kTreeLocationPrefix, 0) == 0) more = reader.next(&expected);
    if (!more.ok()) return std::move(more).error();
    if (!*more) {
      first_difference = path_of(actual) + ": not in the signed manifest";
    } else if (actual != expected) {
      std::string a = path_of(actual), e = path_of(expected);
      first_difference = a == e ? a + ": differs from the signed manifest (expected '" + expected + "', found '" +
                                      std::string(actual) + "')"
                                : (a < e ? a + ": not in the signed manifest" : e + ": missing");
    }
    return ok_status();
  }, rules);
  if (!walked.ok()) return walked;
  if (first_difference.empty()) {
    auto more = reader.next(&expected);
    if (!more.ok()) return std::move(more).error();
    if (*more) first_difference = path_of(expected) + ": missing";
  }
  auto digest = reader.finish();
  if (!digest.ok()) return std::move(digest).error();
  if (*digest != info.payload_sha256_hex) return failure("tree manifest: sha256 mismatch");
  if (!first_difference.empty()) return failure("tree: " + first_difference);
  return ok_status();
}

Status verify_tree(const std::string& image_path, const ImageInfo& info, const std::string& root) {
  std::string where = "verify tree " + root + " against " + image_path;
  if (!info.tree_manifest) return bad_input(where + ": the image carries a squashfs, not a tree manifest");
  UniqueFd fd(::open(image_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error(where + ": open");
  auto dir = open_tree_root(root);
  if (!dir.ok()) return std::move(dir).error().context(where);
  Status st = verify_tree_fd(fd.get(), info, dir->get(), {});
  if (!st.ok()) return std::move(st).error().context(where);
  return ok_status();
}

}  // namespace nestbox::verifier
