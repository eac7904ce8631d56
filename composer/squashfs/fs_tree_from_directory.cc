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
#include <memory>
#include <utility>
#include <vector>

#include "composer/host_walk.h"
#include "composer/source_file.h"
#include "util/fd.h"

namespace nestbox::composer::squashfs {
namespace {

// XXH3-128 of the content of the file open at `fd`.
Result<ContentHash> hash_fd(int fd, const std::string& what) {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> st(XXH3_createState(), XXH3_freeState);
  if (!st) return failure("out of memory");
  XXH3_128bits_reset(st.get());
  std::string buf(1u << 20, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + what);
    if (n == 0) break;
    XXH3_128bits_update(st.get(), buf.data(), static_cast<size_t>(n));
  }
  XXH128_hash_t h = XXH3_128bits_digest(st.get());
  return ContentHash{h.high64, h.low64};
}

}  // namespace

Result<ContentHash> hash_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return sys_error("open " + path);
  return hash_fd(fd.get(), path);
}

// The composer's own walk (composer/host_walk.h), never a path walk of its
// own: a directory swapped for a symlink while `squash` read it made the
// path walk list and record the build host's files (their inodes too, so
// the writer's check in open_source_file passed) and pack them.
Result<FsTree> fs_tree_from_directory(const std::string& dir, const DirectoryScanOptions& opts) {
  FsTree tree;
  Status st = walk_host_directory(dir, "directory", "", [&](FsEntry& e, const std::string&) -> Status {
    if (opts.clamp_mtime && (opts.all_time || e.mtime > *opts.clamp_mtime)) e.mtime = *opts.clamp_mtime;
    if (e.type == EntryType::kRegular && opts.hash) {
      // Read through the inode the walk recorded, as the writer will.
      auto fd = open_source_file(e);
      if (!fd.ok()) return std::move(fd).error();
      auto h = hash_fd(fd->get(), e.source_path);
      if (!h.ok()) return std::move(h).error();
      e.hash = *h;
    }
    tree.entries.push_back(std::move(e));
    return ok_status();
  });
  if (!st.ok()) return std::move(st).error();
  // The walk sorts per directory ("/a", "/a/x", "/a-b"), but FsTree wants
  // byte order of full paths ("/a", "/a-b", "/a/x").
  std::sort(tree.entries.begin(), tree.entries.end(),
            [](const FsEntry& a, const FsEntry& b) { return a.path < b.path; });
  return tree;
}

}  // namespace nestbox::composer::squashfs
