#include "composer/host_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "composer/host_xattrs.h"
#include "util/fd.h"
#include "util/shown.h"

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
  errno = 0;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  int err = errno;
  closedir(d);
  if (err != 0) return sys_error("readdir " + what, err);
  std::sort(names.begin(), names.end());
  return names;
}

// An entry still to visit: its name in its parent directory, held open.
struct Pending {
  std::shared_ptr<UniqueFd> parent;  // null for the root
  std::string name;
  std::string rel;
};

std::string fd_path(int fd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(fd) + (name.empty() ? "" : "/" + name);
}

}  // namespace

Status walk_host_directory(const std::string& given, const std::string& kind, const std::string& excluded,
                           const HostWalkVisitor& visit) {
  // The directory itself may be reached through a symlink (the user's own
  // path); nothing beneath it is followed.
  char* real = realpath(given.c_str(), nullptr);
  if (!real) return sys_error(kind + " " + given);
  std::string dir = real;
  free(real);
  auto root = std::make_shared<UniqueFd>(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!*root) {
    if (errno == ENOTDIR) return bad_input(dir + ": not a directory");
    return sys_error("open " + kind + " " + dir);
  }
  // Hard links: every non-directory the host shows with more than one link
  // gets the link_id of its inode, so outputs can keep them one inode.
  std::map<std::pair<dev_t, ino_t>, uint64_t> link_ids;
  // Depth-first, sorted: parents are visited before their children.
  std::vector<Pending> stack = {{nullptr, "", "/"}};
  while (!stack.empty()) {
    Pending at = std::move(stack.back());
    stack.pop_back();
    const std::string& rel = at.rel;
    std::string host = rel == "/" ? dir : dir + rel;
    std::string where = dir + ": entry '" + shown(rel) + "'";
    // Before anything deeper is opened: no output can hold it, and each
    // level more would cost another held directory.
    if (const size_t longest = std::max(rel.size(), host.size()); longest > kMaxPathBytes)
      return bad_input(dir + ": entry '" + shown(rel.substr(0, 100)) + "...': a path of " +
                       std::to_string(longest) + " bytes; expected at most " + std::to_string(kMaxPathBytes));
    // Relative to the open parent, never following the last name.
    const int parent = at.parent ? at.parent->get() : -1;
    struct stat st;
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
    const bool is_dir = e.type == EntryType::kDirectory;
    NESTBOX_TRY(visit(e, where));
    if (!is_dir) continue;
    std::shared_ptr<UniqueFd> self = root;
    if (at.parent) {
      self = std::make_shared<UniqueFd>(openat(parent, at.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      const std::string changed = where + ": changed while the " + kind + " was read: refused";
      struct stat opened;
      if (!*self) return errno == ELOOP || errno == ENOTDIR ? bad_input(changed) : sys_error("open " + host);
      if (fstat(self->get(), &opened) != 0) return sys_error("stat " + host);
      if (opened.st_dev != st.st_dev || opened.st_ino != st.st_ino) return bad_input(changed);
    }
    auto names = sorted_names(self->get(), host);
    if (!names.ok()) return std::move(names).error();
    for (auto it = names->rbegin(); it != names->rend(); ++it) {
      std::string child = rel == "/" ? "/" + *it : rel + "/" + *it;
      if (child != excluded) stack.push_back({self, *it, std::move(child)});
    }
  }
  return ok_status();
}

}  // namespace nestbox::composer
