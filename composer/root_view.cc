#include "composer/root_view.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "composer/path.h"
#include "util/fd.h"
#include "util/open_in_root.h"

namespace nestbox::composer {
namespace {

class DirRoot : public RootView {
 public:
  DirRoot(std::string dir, UniqueFd fd) : dir_(std::move(dir)), fd_(std::move(fd)) {}

  Result<NodeInfo> lstat(const std::string& path) const override {
    if (path == "/") return NodeInfo{NodeKind::kDirectory, {}};
    UniqueFd parent;
    NESTBOX_TRY(open_beneath(parent_of(path), O_PATH | O_DIRECTORY, &parent));
    if (!parent) return NodeInfo{};
    std::string name = base_of(path);
    struct stat st;
    if (fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return NodeInfo{};
      return sys_error("stat " + dir_ + path);
    }
    NodeInfo info;
    if (S_ISDIR(st.st_mode)) info.kind = NodeKind::kDirectory;
    else if (S_ISREG(st.st_mode)) info.kind = NodeKind::kRegular;
    else if (S_ISLNK(st.st_mode)) info.kind = NodeKind::kSymlink;
    else info.kind = NodeKind::kOther;
    if (info.kind == NodeKind::kSymlink) {
      std::string buf(st.st_size > 0 ? st.st_size + 1 : 4096, '\0');
      ssize_t n = readlinkat(parent.get(), name.c_str(), buf.data(), buf.size());
      if (n < 0) return sys_error("readlink " + dir_ + path);
      buf.resize(n);
      info.link_target = std::move(buf);
    }
    return info;
  }

  Result<MappedFile> map(const std::string& path) const override {
    UniqueFd fd;
    NESTBOX_TRY(open_beneath(path, O_RDONLY, &fd));
    if (!fd) return sys_error("open " + dir_ + path, ENOENT);
    return MappedFile::open_fd(fd.get(), dir_ + path);
  }

  Result<std::vector<std::string>> list(const std::string& path) const override {
    UniqueFd fd;
    NESTBOX_TRY(open_beneath(path, O_RDONLY | O_DIRECTORY, &fd));
    std::vector<std::string> names;
    if (!fd) return names;
    DIR* d = fdopendir(fd.get());
    if (!d) return sys_error("opendir " + dir_ + path);
    fd.release();  // the DIR owns it now; closedir closes it
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  // Opens `path` beneath the root without following any symlink; a missing
  // path leaves *out invalid.
  Status open_beneath(const std::string& path, int flags, UniqueFd* out) const {
    UniqueFd fd = open_confined(fd_.get(), path, flags, Confine::kBeneathNoSymlinks);
    if (!fd) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return ok_status();
      return sys_error("open " + dir_ + path);
    }
    *out = std::move(fd);
    return ok_status();
  }

  std::string dir_;
  UniqueFd fd_;
};

}  // namespace

Result<std::unique_ptr<RootView>> open_dir_root(const std::string& dir) {
  UniqueFd fd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open root " + dir);
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return std::unique_ptr<RootView>(new DirRoot(d, std::move(fd)));
}

Result<Resolved> resolve_in_root(const RootView& root, const std::string& path, bool follow_final) {
  std::vector<std::string> pending = split_components(path);
  std::reverse(pending.begin(), pending.end());
  Resolved out;
  std::string cur = "/";
  NodeKind kind = NodeKind::kDirectory;
  int hops = 0;
  while (!pending.empty()) {
    std::string comp = std::move(pending.back());
    pending.pop_back();
    if (comp == ".") continue;
    if (comp == "..") {
      cur = parent_of(cur);
      kind = NodeKind::kDirectory;
      continue;
    }
    std::string next = cur == "/" ? "/" + comp : cur + "/" + comp;
    auto info = root.lstat(next);
    if (!info.ok()) return std::move(info).error();
    if (info->kind == NodeKind::kSymlink && (!pending.empty() || follow_final)) {
      if (++hops > 40) return bad_input("too many levels of symlinks resolving " + path);
      if (info->link_target.empty()) return bad_input("empty symlink target at " + next);
      out.symlinks.push_back(next);
      auto target = split_components(info->link_target);
      if (info->link_target[0] == '/') cur.assign(1, '/');
      for (auto it = target.rbegin(); it != target.rend(); ++it) pending.push_back(*it);
      continue;
    }
    if (info->kind == NodeKind::kMissing ||
        (!pending.empty() && info->kind != NodeKind::kDirectory)) {
      out.path = next;
      for (auto it = pending.rbegin(); it != pending.rend(); ++it) out.path += "/" + *it;
      out.kind = NodeKind::kMissing;
      return out;
    }
    cur = std::move(next);
    kind = info->kind;
  }
  out.path = cur;
  out.kind = kind;
  return out;
}

}  // namespace nestbox::composer
