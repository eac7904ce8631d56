#include "util/temp_path.h"

#include <ftw.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace nestbox {

TempFile& TempFile::operator=(TempFile&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

void TempFile::remove() {
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

Result<TempDir> TempDir::create(const std::string& prefix) {
  std::string path = prefix + "XXXXXX";
  if (::mkdtemp(path.data()) == nullptr) return sys_error("create temporary directory " + path);
  return TempDir(std::move(path));
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

// Depth first, never following a symlink (FTW_PHYS): a link in the tree is
// removed, not what it points to; never below a mount point (FTW_MOUNT): a
// bind mount left behind in the tree is not emptied. Best effort: a cleanup
// must not fail the run.
void TempDir::remove() {
  if (!path_.empty())
    ::nftw(path_.c_str(), [](const char* p, const struct stat*, int, FTW*) { return (::remove(p), 0); }, 16,
           FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  path_.clear();
}

}  // namespace nestbox
