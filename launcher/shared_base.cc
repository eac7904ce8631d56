#include "launcher/shared_base.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "launcher/image_device.h"
#include "util/dm_device.h"
#include "util/mount_point.h"

namespace nestbox::launcher {
namespace {

constexpr long kSquashfsMagic = 0x73717368;

// A directory only root can enter and write: made if missing, then opened
// without following a symlink and checked (owner root, no group/other bits),
// so nobody else can have prepared it or a mount point inside it.
Result<UniqueFd> private_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + path);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + path);
  if (st.st_uid != 0 || (st.st_mode & 077) != 0)
    return failure(path + ": not a private directory of root's (owner " + std::to_string(st.st_uid) + ", mode " +
                   std::to_string(st.st_mode & 07777) + "); refusing to share a base mount there");
  return fd;
}

Result<UniqueFd> open_lock(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return sys_error("open " + path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + path);
  if (!S_ISREG(st.st_mode) || st.st_uid != 0) return failure(path + ": not a lock file of root's");
  return fd;
}

Status lock(int fd, int op, const std::string& what) {
  while (::flock(fd, op) != 0) {
    if (errno == EINTR) continue;
    return sys_error("flock " + what);
  }
  return ok_status();
}

// True when `dir` is the root of a squashfs mount (not merely a directory).
bool is_squashfs_mount(const std::string& dir) {
  struct stat here, up;
  struct statfs fs;
  if (::stat(dir.c_str(), &here) != 0 || ::stat((dir + "/..").c_str(), &up) != 0) return false;
  if (::statfs(dir.c_str(), &fs) != 0) return false;
  return here.st_dev != up.st_dev && static_cast<long>(fs.f_type) == kSquashfsMagic;
}

// The dm-verity device of a shared base: "nestbox:@<key, cut>:base" (within
// DM_NAME_LEN; no container name starts with '@').
std::string dm_owner(const std::string& key) { return "@" + key.substr(0, 100); }
std::string dm_name_of(const std::string& key) { return verity_device_name(dm_owner(key), "base"); }

// Removes what a shared base of `key` may hold: its mount (detached if a
// container on its way out still references it; the loop device goes with
// the last reference, autoclear), its dm-verity device, its files.
void clear(const std::string& bases, const std::string& key) {
  std::string dir = bases + "/" + key;
  while (unmount_now_or_detach(dir + "/root")) {
  }
  struct stat st;
  if (::stat(dm::kControl, &st) == 0 && dm::DmDevice::exists(dm_name_of(key)))
    (void)dm::DmDevice::remove(dm_name_of(key));
  ::rmdir((dir + "/root").c_str());
  ::unlink((dir + "/holders").c_str());
  ::rmdir(dir.c_str());
}

// Sweeps every key no live launcher holds; the caller holds the bases lock.
void sweep_locked(const std::string& bases, const std::string& except) {
  DIR* d = ::opendir(bases.c_str());
  if (!d) return;
  std::vector<std::string> keys;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.' && e->d_type == DT_DIR && except != e->d_name) keys.push_back(e->d_name);
  ::closedir(d);
  for (const std::string& k : keys) {
    UniqueFd h(::open((bases + "/" + k + "/holders").c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    if (h && ::flock(h.get(), LOCK_EX | LOCK_NB) != 0) continue;  // held by a live launcher
    clear(bases, k);
  }
}

}  // namespace

std::string shared_base_key(const std::string& base_name, const ImageWindow& w) {
  // dm-verity's tree hashes every level alike (salt, then the block): the
  // hash blocks of one image, taken as the data of another with fewer
  // blocks, give the same root hash and salt. The data block count (with
  // the root) names the content; the rest of the table is fixed by the format.
  if (w.verity)
    return base_name + "-v" + w.verity->root_hex + "-" + w.verity->salt_hex + "-" +
           std::to_string(w.verity->data_blocks);
  if (w.digest.size() != 64) return "";
  return base_name + "-p" + w.digest;
}

Result<SharedBase> SharedBase::acquire(const std::string& state_root, const std::string& base_name,
                                       const ImageWindow& w, bool legacy_loop) {
  SharedBase b;
  b.key_ = shared_base_key(base_name, w);
  if (b.key_.empty()) return failure("base " + w.path + ": no verified digest to share its mount by");
  b.bases_ = state_root + "/" + kBasesDir;
  if (::mkdir(state_root.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("mkdir " + state_root);
  auto bases = private_dir(b.bases_);
  if (!bases.ok()) return std::move(bases).error();
  auto mutex = open_lock(b.bases_ + "/lock");
  if (!mutex.ok()) return std::move(mutex).error();
  NESTBOX_TRY(lock(mutex->get(), LOCK_EX, b.bases_ + "/lock"));  // released when `mutex` closes
  sweep_locked(b.bases_, b.key_);

  std::string dir = b.bases_ + "/" + b.key_;
  b.root_ = dir + "/root";
  auto own = private_dir(dir);
  if (!own.ok()) return std::move(own).error();
  auto holder = open_lock(dir + "/holders");
  if (!holder.ok()) return std::move(holder).error();
  if (::flock(holder->get(), LOCK_EX | LOCK_NB) == 0) {
    // Nobody holds it: whatever is mounted there was left by a launcher that
    // died. Never trust it: mount afresh from this launcher's verified fd.
    while (unmount_now_or_detach(b.root_)) {
    }
    struct stat st;
    if (::stat(dm::kControl, &st) == 0 && dm::DmDevice::exists(dm_name_of(b.key_)))
      NESTBOX_TRY_CTX(dm::DmDevice::remove(dm_name_of(b.key_)), "stale shared base");
    if (::mkdir(b.root_.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + b.root_);
    auto dev = ImageDevice::attach(w, dm_owner(b.key_), "base", legacy_loop);
    if (!dev.ok()) return std::move(dev.error().context("base image"));
    if (::mount(dev->node().c_str(), b.root_.c_str(), "squashfs", MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC,
                nullptr) != 0)
      return sys_error("mount squashfs " + dev->node() + " on " + b.root_);
    dev->release_loop();  // the mount holds the loop device now (autoclear)
    if (dev->verity()) {
      b.dm_name_ = dm_name_of(b.key_);
      dev->disown_verity();  // removed by the last holder (or the next sweep), by name
    }
    b.created_ = true;
    NESTBOX_TRY(lock(holder->get(), LOCK_SH, dir + "/holders"));  // downgrade: others may join now
  } else if (errno == EWOULDBLOCK) {
    NESTBOX_TRY(lock(holder->get(), LOCK_SH, dir + "/holders"));
    // A live launcher mounted these very bytes (the key is their verified
    // digest) in this root-only directory; it must still be there.
    if (!is_squashfs_mount(b.root_))
      return failure("shared base " + b.root_ + ": held by a running container but not mounted");
    struct stat st;
    if (w.verity && ::stat(dm::kControl, &st) == 0) b.dm_name_ = dm_name_of(b.key_);
  } else {
    return sys_error("flock " + dir + "/holders");
  }
  b.holder_ = std::move(*holder);
  return b;
}

SharedBase::SharedBase(SharedBase&& o) noexcept
    : bases_(std::move(o.bases_)),
      key_(std::move(o.key_)),
      root_(std::move(o.root_)),
      dm_name_(std::move(o.dm_name_)),
      holder_(std::move(o.holder_)),
      created_(o.created_) {}

SharedBase::~SharedBase() {
  if (!holder_) return;
  // Under the bases lock, so no launcher joins between the last holder's
  // leaving and the unmount.
  UniqueFd mutex(::open((bases_ + "/lock").c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (mutex) (void)lock(mutex.get(), LOCK_EX, "bases lock");
  holder_.reset();
  UniqueFd h(::open((bases_ + "/" + key_ + "/holders").c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (h && ::flock(h.get(), LOCK_EX | LOCK_NB) == 0) clear(bases_, key_);
}

bool SharedBase::corrupted() const {
  if (dm_name_.empty()) return false;
  // "<start> <length> verity V|C": anything unreadable counts as corrupted.
  auto s = dm::DmDevice::status(dm_name_);
  if (!s.ok()) return true;
  size_t at = s->find(" verity ");
  return at == std::string::npos || s->compare(at + 8, 1, "V") != 0;
}

Status sweep_stale_bases(const std::string& state_root) {
  std::string bases = state_root + "/" + kBasesDir;
  struct stat st;
  if (::lstat(bases.c_str(), &st) != 0) return ok_status();
  auto dir = private_dir(bases);
  if (!dir.ok()) return std::move(dir).error();
  auto mutex = open_lock(bases + "/lock");
  if (!mutex.ok()) return std::move(mutex).error();
  NESTBOX_TRY(lock(mutex->get(), LOCK_EX, bases + "/lock"));
  sweep_locked(bases, "");
  return ok_status();
}

}  // namespace nestbox::launcher
