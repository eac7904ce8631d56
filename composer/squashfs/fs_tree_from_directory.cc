#include "composer/squashfs/fs_tree_from_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include "util/fd.h"

namespace nestbox::composer::squashfs {
namespace {

Result<std::vector<Xattr>> read_xattrs(const std::string& path) {
  std::vector<Xattr> out;
  ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP) return out;
    return sys_error("llistxattr " + path);
  }
  std::string names(static_cast<size_t>(n), '\0');
  n = ::llistxattr(path.c_str(), names.data(), names.size());
  if (n < 0) return sys_error("llistxattr " + path);
  names.resize(static_cast<size_t>(n));
  for (size_t pos = 0; pos < names.size();) {
    std::string name = names.c_str() + pos;
    pos += name.size() + 1;
    ssize_t vn = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (vn < 0) return sys_error("lgetxattr " + path + " " + name);
    std::string value(static_cast<size_t>(vn), '\0');
    vn = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (vn < 0) return sys_error("lgetxattr " + path + " " + name);
    value.resize(static_cast<size_t>(vn));
    out.push_back({name, value});
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return sys_error("opendir " + path);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* de = ::readdir(d)) {
    std::string n = de->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return sys_error("readdir " + path, err);
  std::sort(names.begin(), names.end());
  return names;
}

struct Scanner {
  std::string root;
  DirectoryScanOptions opts;
  std::optional<int64_t> clamp;
  FsTree tree;
  std::map<std::pair<dev_t, ino_t>, uint64_t> link_ids;  // hard links: one link_id per inode

  Status add(const std::string& host, const std::string& path) {
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) return sys_error("lstat " + host);
    FsEntry e;
    e.path = path;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime = st.st_mtim.tv_sec;
    if (clamp && (opts.all_time || e.mtime > *clamp)) e.mtime = *clamp;
    auto xattrs = read_xattrs(host);
    if (!xattrs.ok()) return std::move(xattrs).error();
    e.xattrs = std::move(*xattrs);
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR: e.type = EntryType::kDirectory; break;
      case S_IFREG: {
        e.type = EntryType::kRegular;
        e.source_path = host;
        e.size = static_cast<uint64_t>(st.st_size);
        e.source_dev = st.st_dev, e.source_ino = st.st_ino;
        if (opts.hash) {
          auto h = hash_file(host);
          if (!h.ok()) return std::move(h).error();
          e.hash = *h;
        }
        break;
      }
      case S_IFLNK: {
        e.type = EntryType::kSymlink;
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t n = ::readlink(host.c_str(), target.data(), target.size());
        if (n < 0) return sys_error("readlink " + host);
        target.resize(static_cast<size_t>(n));
        e.link_target = target;
        break;
      }
      case S_IFCHR:
      case S_IFBLK:
        e.type = S_ISCHR(st.st_mode) ? EntryType::kCharDevice : EntryType::kBlockDevice;
        e.rdev_major = major(st.st_rdev);
        e.rdev_minor = minor(st.st_rdev);
        break;
      case S_IFIFO: e.type = EntryType::kFifo; break;
      case S_IFSOCK: e.type = EntryType::kSocket; break;
      default: return bad_input(host + ": unsupported file type");
    }
    if (e.type != EntryType::kDirectory && st.st_nlink > 1) {
      auto [it, fresh] = link_ids.emplace(std::make_pair(st.st_dev, st.st_ino), 0);
      if (fresh) it->second = new_link_id();
      e.link_id = it->second;
    }
    bool is_dir = e.type == EntryType::kDirectory;
    tree.entries.push_back(std::move(e));
    if (!is_dir) return ok_status();
    auto names = list_dir(host);
    if (!names.ok()) return std::move(names).error();
    for (const auto& n : *names)
      NESTBOX_TRY(add(host + "/" + n, (path == "/" ? "" : path) + "/" + n));
    return ok_status();
  }
};

}  // namespace

Result<ContentHash> hash_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return sys_error("open " + path);
  XXH3_state_t* st = XXH3_createState();
  XXH3_128bits_reset(st);
  std::string buf(1u << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      XXH3_freeState(st);
      return sys_error("read " + path);
    }
    if (n == 0) break;
    XXH3_128bits_update(st, buf.data(), static_cast<size_t>(n));
  }
  XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  return ContentHash{h.high64, h.low64};
}

Result<FsTree> fs_tree_from_directory(const std::string& dir, const DirectoryScanOptions& opts) {
  Scanner s{dir, opts, opts.clamp_mtime, {}, {}};
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return sys_error("stat " + dir);
  if (!S_ISDIR(st.st_mode)) return bad_input(dir + ": not a directory");
  NESTBOX_TRY(s.add(dir, "/"));
  // Sorting per directory during the walk yields "/a", "/a/x", "/a-b", but
  // FsTree wants byte order of full paths ("/a", "/a-b", "/a/x").
  std::sort(s.tree.entries.begin(), s.tree.entries.end(),
            [](const FsEntry& a, const FsEntry& b) { return a.path < b.path; });
  return std::move(s.tree);
}

}  // namespace nestbox::composer::squashfs
