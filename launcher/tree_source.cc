#include "launcher/tree_source.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "util/open_in_root.h"
#include "verifier/tree_manifest.h"

namespace nestbox::launcher {
namespace {

// Component by component from "/", never through a symlink, on kernels
// before openat2 as well (the location is normalised: tree_location refuses
// "." and "..").
Result<UniqueFd> open_no_symlinks(const std::string& path) {
  UniqueFd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error("open /");
  size_t end = 0;
  UniqueFd dir = open_dirs_no_symlinks(root.get(), path.substr(1), /*create=*/false, &end);
  if (dir) return dir;
  std::string failed = path.substr(0, end + 1);
  if (errno == ELOOP || errno == ENOTDIR)
    return failure(failed + ": not a directory (a symlink on the way to a tree is refused)");
  return sys_error("open " + failed);
}

}  // namespace

Result<VerifiedTree> open_verified_tree(int image_fd, const verifier::ImageInfo& info, const std::string& container) {
  auto loc = verifier::tree_location(image_fd, info);
  if (!loc.ok()) return std::move(loc).error();
  std::string path = loc->empty() ? std::string(verifier::kDefaultTreeDir) + "/" + container : *loc;
  std::string where = "tree " + path;
  auto root = open_no_symlinks(path);
  if (!root.ok()) return std::move(root.error().context(where));
  verifier::TreeRules rules;
  rules.only_root_writes = true;
  NESTBOX_TRY_CTX(verifier::verify_tree_fd(image_fd, info, root->get(), rules), where);
  // A detached copy of exactly the verified directory's mount (not
  // recursive), made here in the launcher's mount namespace: the container's
  // own namespace cannot bind a mount of another namespace, but it can
  // attach this one (move_mount), and no path is looked up again.
  constexpr unsigned kOpenTreeClone = 1;  // OPEN_TREE_CLONE
  UniqueFd clone(static_cast<int>(::syscall(SYS_open_tree, root->get(), "", kOpenTreeClone | O_CLOEXEC | AT_EMPTY_PATH)));
  if (!clone) return sys_error(where + ": open_tree (Linux 5.2+)");
  return VerifiedTree{path, std::make_shared<UniqueFd>(std::move(clone))};
}

}  // namespace nestbox::launcher
