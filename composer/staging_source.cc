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
#include <memory>
#include <utility>

#include "composer/host_xattrs.h"
#include "composer/path.h"
#include "composer/source_tree.h"
#include "util/fd.h"

namespace nestbox::composer {
namespace {

// The names in the directory open at `dir_fd` (its own descriptor is not
// moved), sorted. `what` names it in errors.
Result<std::vector<std::string>> sorted_names(int dir_fd, const std::string& what) {
  int dup = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return sys_error("dup " + what);
  DIR* d = fdopendir(dup);
  if (!d) {
    close(dup);
    return sys_error("opendir " + what);
  }
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// An entry still to visit: its name in its parent directory, held open, so
// no path is resolved again below the root. A directory renamed or swapped
// for a symlink while the walk runs cannot send it elsewhere: each step is
// one name below a directory already open.
struct Pending {
  std::shared_ptr<UniqueFd> parent;
  std::string name;
  std::string rel;
};

std::string fd_path(int fd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(fd) + (name.empty() ? "" : "/" + name);
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
  auto root = std::make_shared<UniqueFd>(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!*root) return sys_error("open staging directory " + dir);
  std::vector<Pending> stack = {{nullptr, "", "/"}};
  while (!stack.empty()) {
    Pending at = std::move(stack.back());
    stack.pop_back();
    const std::string& rel = at.rel;
    std::string host = rel == "/" ? dir : dir + rel;
    std::string where = dir + ": entry '" + rel + "'";
    // Relative to the open parent, never following the last name.
    int parent = at.parent ? at.parent->get() : -1;
    if (at.parent ? fstatat(parent, at.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 : fstat(root->get(), &st) != 0)
      return sys_error("lstat " + host);
    FsEntry e;
    e.path = rel;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid, e.gid = st.st_gid;
    e.mtime = st.st_mtime;
    auto x = read_host_xattrs(at.parent ? fd_path(parent, at.name) : fd_path(root->get(), ""), !at.parent);
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
        ssize_t n = readlinkat(parent, at.name.c_str(), buf.data(), buf.size());
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
    std::shared_ptr<UniqueFd> self = root;
    if (at.parent) {
      self = std::make_shared<UniqueFd>(openat(parent, at.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      struct stat opened;
      if (!*self) return sys_error("open " + host);
      if (fstat(self->get(), &opened) != 0) return sys_error("stat " + host);
      if (opened.st_dev != st.st_dev || opened.st_ino != st.st_ino)
        return bad_input(where + ": changed while the staging directory was read: refused");
    }
    auto names = sorted_names(self->get(), host);
    if (!names.ok()) return std::move(names).error();
    for (auto it = names->rbegin(); it != names->rend(); ++it) {
      std::string child = rel == "/" ? "/" + *it : rel + "/" + *it;
      if (child != excluded_) stack.push_back({self, *it, std::move(child)});
    }
  }
  return ok_status();
}

}  // namespace nestbox::composer
