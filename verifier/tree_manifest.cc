#include "verifier/tree_manifest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <memory>
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

std::string octal(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", v);
  return buf;
}

Result<std::string> file_digest(const std::string& path, uint64_t* size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (!fd) return sys_error("open " + path);
  crypto::Sha256 h;
  char buf[65536];
  *size = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + path);
    if (n == 0) break;
    h.update(buf, static_cast<size_t>(n));
    *size += static_cast<uint64_t>(n);
  }
  std::string d = h.finish();
  if (!h.ok()) return failure("sha256 " + path);
  return crypto::to_hex(d);
}

Result<std::string> xattrs_of(const std::string& path) {
  ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP) return std::string("-");
    return sys_error("listxattr " + path);
  }
  std::string names(static_cast<size_t>(n), '\0');
  n = ::llistxattr(path.c_str(), names.data(), names.size());
  if (n < 0) return sys_error("listxattr " + path);
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
    ssize_t vn = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (vn < 0) return sys_error("getxattr " + path + " " + name);
    std::string value(static_cast<size_t>(vn), '\0');
    vn = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (vn < 0) return sys_error("getxattr " + path + " " + name);
    value.resize(static_cast<size_t>(vn));
    if (!out.empty()) out += ',';
    out += escape(name) + "=" + crypto::to_hex(value);
  }
  return out;
}

Result<std::string> entry_line(const std::string& full, const std::string& rel, const struct stat& st) {
  char type = '?';
  std::string content = "-";
  switch (st.st_mode & S_IFMT) {
    case S_IFDIR: type = 'd'; break;
    case S_IFREG: {
      type = 'f';
      uint64_t size = 0;
      auto d = file_digest(full, &size);
      if (!d.ok()) return std::move(d).error();
      content = std::to_string(size) + ":" + *d;
      break;
    }
    case S_IFLNK: {
      type = 'l';
      std::string target(4096, '\0');
      ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
      if (n < 0) return sys_error("readlink " + full);
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
  auto x = xattrs_of(full);
  if (!x.ok()) return std::move(x).error();
  return escape(rel) + " " + type + " " + octal(st.st_mode & 07777) + " " + std::to_string(st.st_uid) + " " +
         std::to_string(st.st_gid) + " " + content + " " + *x;
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

Status walk_dir(const std::string& root, const std::string& rel, const ManifestSink& sink) {
  std::string full = root + rel;
  std::unique_ptr<DIR, DirCloser> d(::opendir(full.c_str()));
  if (!d) return sys_error("open " + full);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  if (errno != 0) return sys_error("read " + full);
  d.reset();
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    std::string child_rel = (rel == "/" ? "/" : rel + "/") + n;
    std::string child = root + child_rel;
    struct stat st;
    if (::lstat(child.c_str(), &st) != 0) return sys_error("stat " + child);
    auto line = entry_line(child, child_rel, st);
    if (!line.ok()) return std::move(line).error();
    NESTBOX_TRY(sink(*line));
    if (S_ISDIR(st.st_mode)) NESTBOX_TRY(walk_dir(root, child_rel, sink));
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

Status walk_tree(const std::string& root, const ManifestSink& sink) {
  struct stat st;
  if (::lstat(root.c_str(), &st) != 0) return sys_error("stat " + root);
  if (!S_ISDIR(st.st_mode)) return bad_input(root + ": not a directory");
  NESTBOX_TRY(sink(kTreeManifestHeader));
  auto line = entry_line(root, "/", st);
  if (!line.ok()) return std::move(line).error();
  NESTBOX_TRY(sink(*line));
  return walk_dir(root, "/", sink);
}

Status verify_tree(const std::string& image_path, const ImageInfo& info, const std::string& root) {
  std::string where = "verify tree " + root + " against " + image_path;
  if (!info.tree_manifest) return bad_input(where + ": the image carries a squashfs, not a tree manifest");
  UniqueFd fd(::open(image_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error(where + ": open");
  ManifestReader reader(fd.get(), info.squashfs_offset, info.squashfs_size);
  std::string expected, first_difference;
  Status walked = walk_tree(root, [&](std::string_view actual) -> Status {
    if (!first_difference.empty()) return ok_status();
    auto more = reader.next(&expected);
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
  });
  if (!walked.ok()) return std::move(walked).error().context(where);
  if (first_difference.empty()) {
    auto more = reader.next(&expected);
    if (!more.ok()) return std::move(more).error().context(where);
    if (*more) first_difference = path_of(expected) + ": missing";
  }
  auto digest = reader.finish();
  if (!digest.ok()) return std::move(digest).error().context(where);
  if (*digest != info.payload_sha256_hex) return failure(where + ": tree manifest: sha256 mismatch");
  if (!first_difference.empty()) return failure(where + ": tree: " + first_difference);
  return ok_status();
}

}  // namespace nestbox::verifier
