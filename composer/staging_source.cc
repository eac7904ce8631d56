// SourceTree::add_directory: a staging rootfs on disk, walked without
// following symlinks, names sorted, xattrs kept.
#include <dirent.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>

#include "composer/host_xattrs.h"
#include "composer/path.h"
#include "composer/source_tree.h"
#include "util/fd.h"

namespace nestbox::composer {
namespace {

Result<std::vector<std::string>> sorted_names(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return sys_error("opendir " + dir);
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Status SourceTree::add_directory(const std::string& given, const IngestOptions& opts) {
  // The directory itself may be reached through a symlink (the user's own
  // path); nothing beneath it is followed.
  char* real = realpath(given.c_str(), nullptr);
  if (!real) return sys_error("staging directory " + given);
  std::string dir = real;
  free(real);
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return sys_error("staging directory " + dir);
  if (!S_ISDIR(st.st_mode)) return bad_input(dir + ": not a directory");
  // Hard links: every non-directory the host shows with more than one link
  // gets the link_id of its inode, so the image can keep them one inode.
  std::map<std::pair<dev_t, ino_t>, uint64_t> link_ids;
  // Depth-first, sorted: parents are inserted before their children.
  std::vector<std::string> stack = {"/"};
  while (!stack.empty()) {
    std::string rel = std::move(stack.back());
    stack.pop_back();
    std::string host = rel == "/" ? dir : dir + rel;
    std::string where = dir + ": entry '" + rel + "'";
    if (lstat(host.c_str(), &st) != 0) return sys_error("lstat " + host);
    FsEntry e;
    e.path = rel;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid, e.gid = st.st_gid;
    e.mtime = st.st_mtime;
    auto x = read_host_xattrs(host);
    if (!x.ok()) return std::move(x).error();
    e.xattrs = std::move(*x);
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR: e.type = EntryType::kDirectory; break;
      case S_IFREG:
        e.type = EntryType::kRegular, e.size = st.st_size, e.source_path = host;
        e.source_dev = st.st_dev, e.source_ino = st.st_ino;
        break;
      case S_IFLNK: {
        e.type = EntryType::kSymlink;
        std::string buf(st.st_size + 1, '\0');
        ssize_t n = readlink(host.c_str(), buf.data(), buf.size());
        if (n < 0) return sys_error("readlink " + host);
        buf.resize(n);
        e.link_target = buf;
        auto d = symlink_destination(rel, e.link_target);
        if (!d.ok()) return bad_input(where + ": " + d.error().message);
        e.mode = 0777;
        break;
      }
      case S_IFCHR: e.type = EntryType::kCharDevice; break;
      case S_IFBLK: e.type = EntryType::kBlockDevice; break;
      case S_IFIFO: e.type = EntryType::kFifo; break;
      default: e.type = EntryType::kSocket; break;
    }
    if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice)
      e.rdev_major = major(st.st_rdev), e.rdev_minor = minor(st.st_rdev);
    if (e.type != EntryType::kDirectory && st.st_nlink > 1) {
      auto [it, fresh] = link_ids.emplace(std::make_pair(st.st_dev, st.st_ino), 0);
      if (fresh) it->second = new_link_id();
      e.link_id = it->second;
    }
    std::string violation;
    NESTBOX_TRY(apply_policy(&e, opts, where, this, &violation));
    NESTBOX_TRY(insert(e, where, true));
    if (!violation.empty()) this->violation(e.path, violation);
    if (e.type != EntryType::kDirectory) continue;
    auto names = sorted_names(host);
    if (!names.ok()) return std::move(names).error();
    for (auto it = names->rbegin(); it != names->rend(); ++it) {
      std::string child = rel == "/" ? "/" + *it : rel + "/" + *it;
      if (child != excluded_) stack.push_back(std::move(child));
    }
  }
  return ok_status();
}

}  // namespace nestbox::composer
