// mount_rootfs(): the container's root at devices.root_dir.
#include <sys/mount.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "launcher/mounts.h"
#include "launcher/rootpath.h"
#include "launcher/storage.h"

namespace nestbox::launcher {
namespace {

Status mkdir_p(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + dir);
  return {};
}

// Device nodes in an image are dead (nodev) unless the manifest declares
// devices; even then the device allow-list (devices.h) admits only those.
unsigned long nodev(const policy::Policy& p) { return p.devices.empty() ? MS_NODEV : 0; }

Status mount_squashfs(const std::string& dev, const std::string& at, unsigned long dev_flag) {
  NESTBOX_TRY(mkdir_p(at));
  if (::mount(dev.c_str(), at.c_str(), "squashfs", MS_RDONLY | dev_flag, nullptr) != 0)
    return sys_error("mount squashfs " + dev + " on " + at);
  return {};
}

// A directory bound read-only at `at` (the shared base's one mount: a
// mount point the launcher made and holds, not a path the image controls).
Status bind_dir(const std::string& dir, const std::string& at, unsigned long dev_flag) {
  NESTBOX_TRY(mkdir_p(at));
  // Not recursive: a bind remount sets the flags of the top mount only, so a
  // mount someone placed below `dir` must not come along without them.
  if (::mount(dir.c_str(), at.c_str(), nullptr, MS_BIND, nullptr) != 0) return sys_error("bind " + dir);
  if (::mount("", at.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | dev_flag, nullptr) != 0)
    return sys_error("remount " + dir + " read-only");
  return {};
}

// A verified tree (src.tree_fd: a detached, non-recursive clone of the
// directory that was walked, tree_source.h) is attached with move_mount,
// never looked up by path again (a rename after verification cannot swap
// it); verification refused mounts inside it.
Status bind_tree(const RootfsSource& src, const std::string& at, unsigned long dev_flag) {
  const std::string& tree = src.tree;
  if (!src.tree_fd) return bind_dir(tree, at, dev_flag);
  NESTBOX_TRY(mkdir_p(at));
  constexpr unsigned kMoveMountFEmptyPath = 4;  // MOVE_MOUNT_F_EMPTY_PATH
  if (::syscall(SYS_move_mount, src.tree_fd->get(), "", AT_FDCWD, at.c_str(), kMoveMountFEmptyPath) != 0)
    return sys_error("attach verified tree " + tree);
  if (::mount("", at.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | dev_flag, nullptr) != 0)
    return sys_error("remount " + tree + " read-only");
  return {};
}

// The persistent upper layer of the root, if the policy asks for one.
const policy::Mount* root_overlay(const policy::Policy& p) {
  for (const policy::Mount& m : p.mounts)
    if (m.kind == policy::MountKind::kStorageOverlay && m.target == "/") return &m;
  return nullptr;
}

}  // namespace

Status mount_rootfs(const policy::Policy& p, const RootfsSource& src, const RootDevices& d) {
  using Kind = RootfsSource::Kind;
  const policy::Mount* persistent = root_overlay(p);
  bool upper = persistent || !p.read_only_root;
  unsigned long dev_flag = nodev(p);
  if (src.kind == Kind::kSquashfs && !upper) return mount_squashfs(d.image_dev, d.root_dir, dev_flag);
  if (src.kind == Kind::kTree && !upper) return bind_tree(src, d.root_dir, dev_flag);

  std::string lower0 = d.work_dir + "/lower0", lower1 = d.work_dir + "/lower1";
  std::string lowers = lower0;
  if (src.kind == Kind::kTree) {
    NESTBOX_TRY(bind_tree(src, lower0, dev_flag));
  } else {
    NESTBOX_TRY(mount_squashfs(d.image_dev, lower0, dev_flag));
  }
  if (src.kind == Kind::kOverlay) {
    // One mount of the base serves every container over it (one page
    // cache); each binds it read-only with its own device policy.
    NESTBOX_TRY(bind_dir(d.base_dir, lower1, dev_flag));
    lowers += ":" + lower1;  // the layer lies on top of the base
  }
  std::string data = "lowerdir=" + lowers;
  std::optional<UniqueFd> upper_fd, work_fd;  // held until the overlay is mounted
  if (upper) {
    std::string dir;
    if (persistent) {
      dir = persistent->source;
      NESTBOX_TRY(ensure_host_dir(dir));  // 0700, root's: the layers live below
    } else {  // writable but volatile root: the upper layer lives in RAM
      dir = d.work_dir + "/upper";
      NESTBOX_TRY(mkdir_p(dir));
      if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=755") != 0)
        return sys_error("mount tmpfs upper layer");
    }
    // The upper layer's top is the container root's: root in a user namespace
    // can then write the root filesystem.
    NESTBOX_TRY(ensure_host_dir(dir + "/upper", container_root(p)));
    if (persistent) NESTBOX_TRY(check_host_storage_closed(dir + "/upper", container_root(p)));
    NESTBOX_TRY(mkdir_p(dir + "/work"));
    std::string upper_dir = dir + "/upper", work_dir = dir + "/work";
    if (persistent) {  // a host path: reached without a symlink, named by descriptor
      auto u = open_host_source(upper_dir);
      if (!u.ok()) return std::move(u).error();
      auto w = open_host_source(work_dir);
      if (!w.ok()) return std::move(w).error();
      upper_fd.emplace(std::move(*u));
      work_fd.emplace(std::move(*w));
      upper_dir = fd_path(upper_fd->get());
      work_dir = fd_path(work_fd->get());
    }
    data += ",upperdir=" + upper_dir + ",workdir=" + work_dir;
  }
  NESTBOX_TRY(mkdir_p(d.root_dir));
  // The overlay is checked on its own mount: nodev here, not only on the layers.
  if (::mount("overlay", d.root_dir.c_str(), "overlay", dev_flag, data.c_str()) != 0)
    return sys_error("mount overlay (" + data + ")");
  return {};
}

}  // namespace nestbox::launcher
