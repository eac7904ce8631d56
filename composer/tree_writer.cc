#include "composer/tree_writer.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include "composer/path.h"
#include "composer/source_file.h"
#include "util/fd.h"
#include "util/file_io.h"
#include "util/open_in_root.h"

namespace nestbox::composer {
namespace {

Result<UniqueFd> open_beneath(int root_fd, const std::string& path, const std::string& what) {
  UniqueFd fd = open_confined(root_fd, path, O_PATH | O_DIRECTORY, Confine::kBeneathNoSymlinks);
  if (!fd) return sys_error("open " + what + path);
  return fd;
}

Status copy_content(const FsEntry& e, int dst_fd, const std::string& what) {
  const std::string& src = e.source_path;
  auto opened = open_source_file(e);
  if (!opened.ok()) return std::move(opened).error();
  UniqueFd in = std::move(*opened);
  for (;;) {
    ssize_t n = copy_file_range(in.get(), nullptr, dst_fd, nullptr, 1 << 30, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS) return sys_error("copy to " + what);
      char buf[128 * 1024];
      for (;;) {
        ssize_t r = read(in.get(), buf, sizeof buf);
        if (r < 0) return sys_error("read " + src);
        if (r == 0) return ok_status();
        NESTBOX_TRY(write_all(dst_fd, buf, r, what));
      }
    }
    if (n == 0) return ok_status();
  }
}

std::string proc_path(int parent_fd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(parent_fd) + "/" + name;
}

// Owner, xattrs, then mode (chown clears setuid bits), then times.
// `chown`: false when the tree is packed owned by 0:0 (ComposeContext::root_owned).
Status apply_meta(int parent_fd, const std::string& name, const FsEntry& e,
                  const std::string& what, bool chown = true) {
  if (chown && fchownat(parent_fd, name.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW) != 0)
    return sys_error("chown " + what);
  std::string p = proc_path(parent_fd, name);
  for (const auto& x : e.xattrs)
    if (lsetxattr(p.c_str(), x.name.c_str(), x.value.data(), x.value.size(), 0) != 0)
      return sys_error("setxattr " + x.name + " on " + what);
  if (e.type != EntryType::kSymlink && fchmodat(parent_fd, name.c_str(), e.mode, 0) != 0)
    return sys_error("chmod " + what);
  struct timespec ts[2] = {{e.mtime, 0}, {e.mtime, 0}};
  if (utimensat(parent_fd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
    return sys_error("set times of " + what);
  return ok_status();
}

const char* meta_difference(const FsEntry& a, const LinkPool::Key& k) {
  if (a.uid != k.uid || a.gid != k.gid) return "owner";
  if (a.mode != k.mode) return "mode";
  if (a.xattrs != k.xattrs) return "xattrs";
  return nullptr;
}

}  // namespace

Status write_tree(const FsTree& tree, const std::string& dir, const std::string& name,
                  const ContentIndex& index, LinkPool* pool, const LinkSourceFn& link_source,
                  const ComposeContext& ctx, WriteStats* stats, std::vector<std::string>* notes) {
  UniqueFd root(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!root) return sys_error("open " + dir);
  std::string cached_parent;
  UniqueFd parent;
  std::vector<const FsEntry*> dirs;
  for (const FsEntry& e : tree.entries) {
    const std::string what = dir + e.path;
    ++stats->entries;
    if (e.path == "/") {
      dirs.push_back(&e);
      continue;
    }
    std::string pp = parent_of(e.path);
    if (pp != cached_parent || !parent) {
      auto fd = open_beneath(root.get(), pp, dir);
      if (!fd.ok()) return std::move(fd).error();
      parent = std::move(*fd);
      cached_parent = pp;
    }
    std::string base = base_of(e.path);
    const char* n = base.c_str();
    switch (e.type) {
      case EntryType::kDirectory:
        if (mkdirat(parent.get(), n, 0700) != 0) return sys_error("mkdir " + what);
        dirs.push_back(&e);
        break;
      case EntryType::kSymlink:
        if (symlinkat(e.link_target.c_str(), parent.get(), n) != 0) return sys_error("symlink " + what);
        NESTBOX_TRY(apply_meta(parent.get(), base, e, what, !ctx.root_owned));
        break;
      case EntryType::kCharDevice:
      case EntryType::kBlockDevice:
      case EntryType::kFifo: {
        mode_t t = e.type == EntryType::kCharDevice ? S_IFCHR
                   : e.type == EntryType::kBlockDevice ? S_IFBLK : S_IFIFO;
        if (mknodat(parent.get(), n, t | 0600, makedev(e.rdev_major, e.rdev_minor)) != 0)
          return sys_error("mknod " + what);
        NESTBOX_TRY(apply_meta(parent.get(), base, e, what, !ctx.root_owned));
        break;
      }
      case EntryType::kSocket:
        return bad_input(what + ": sockets cannot be written");
      case EntryType::kRegular: {
        ++stats->files;
        stats->bytes += e.size;
        const ContentInfo* c = index.find(e.source_path);
        if (!c) return failure(what + ": content not indexed");
        std::string why;
        std::string from = link_source ? link_source(e, &why) : "";
        // A link source is a /proc/self/fd magic link to the file it
        // opened: followed, so the link is to exactly the inode it checked.
        int link_flags = from.empty() ? 0 : AT_SYMLINK_FOLLOW;
        LinkPool::Key key{c->id, e.uid, e.gid, e.mode, e.mtime, e.xattrs};
        if (from.empty()) {
          auto it = pool->by_key.find(key);
          if (it != pool->by_key.end()) from = it->second;
        }
        if (!from.empty() && linkat(AT_FDCWD, from.c_str(), parent.get(), n, link_flags) == 0) {
          ++stats->linked;
          break;
        }
        if (!why.empty()) notes->push_back("copied " + name + ":" + e.path + ": " + why);
        auto first = pool->first_by_content.find(c->id);
        if (first != pool->first_by_content.end() && from.empty()) {
          // Same bytes as an earlier entry: say why it could not be shared.
          if (const char* d = meta_difference(e, pool->first_key.at(c->id)))
            notes->push_back("copied " + name + ":" + e.path + ": same content as " +
                             first->second + " but " + d + " differs");
        }
        UniqueFd out(openat(parent.get(), n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0600));
        if (!out) return sys_error("create " + what);
        NESTBOX_TRY(copy_content(e, out.get(), what));
        out.reset();
        NESTBOX_TRY(apply_meta(parent.get(), base, e, what, !ctx.root_owned));
        ++stats->copied;
        pool->by_key.emplace(key, what);
        pool->first_by_content.emplace(c->id, name + ":" + e.path);
        pool->first_key.emplace(c->id, key);
        break;
      }
    }
    if (ctx.progress) ctx.progress(stats->entries);
  }
  // Directory metadata last, deepest first, so read-only modes and mtimes stick.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    const FsEntry& e = **it;
    std::string pp = e.path == "/" ? "" : parent_of(e.path);
    if (e.path == "/") {
      UniqueFd up(open((dir + "/..").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!up) return sys_error("open " + dir + "/..");
      NESTBOX_TRY(apply_meta(up.get(), base_of(dir), e, dir, !ctx.root_owned));
      continue;
    }
    auto fd = open_beneath(root.get(), pp, dir);
    if (!fd.ok()) return std::move(fd).error();
    NESTBOX_TRY(apply_meta(fd->get(), base_of(e.path), e, dir + e.path, !ctx.root_owned));
  }
  return ok_status();
}

Status install_dir(const std::string& tmp_path, const std::string& final_path) {
  struct stat st;
  if (lstat(final_path.c_str(), &st) != 0) {
    if (errno != ENOENT) return sys_error("stat " + final_path);
    if (rename(tmp_path.c_str(), final_path.c_str()) != 0) return sys_error("rename " + tmp_path);
    return ok_status();
  }
  if (renameat2(AT_FDCWD, tmp_path.c_str(), AT_FDCWD, final_path.c_str(), RENAME_EXCHANGE) != 0)
    return sys_error("exchange " + tmp_path + " and " + final_path);
  std::error_code ec;
  std::filesystem::remove_all(tmp_path, ec);  // now the previous version
  if (ec) return failure("remove previous " + final_path + ": " + ec.message());
  return ok_status();
}

}  // namespace nestbox::composer
