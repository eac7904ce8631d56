#include "launcher/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "launcher/ipc_bind.h"
#include "launcher/rootpath.h"
#include "launcher/storage.h"
#include "policy/mount_targets.h"
#include "policy/proc_masks.h"
#include "util/fd.h"

namespace nestbox::launcher {
namespace {

Status do_mount(const std::string& src, const std::string& dst, const char* type,
                unsigned long flags, const std::string& data, const std::string& what) {
  if (::mount(src.c_str(), dst.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
    return sys_error("mount " + what);
  return {};
}

// mount_setattr(2) (Linux 5.12): sets attributes on a mount and, with
// AT_RECURSIVE, on every mount below it, clearing none.
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
// -1 with errno; ENOSYS where the kernel (or the build's headers) lack it.
int set_attributes_recursively(int mount_fd, unsigned long ms) {
#ifdef SYS_mount_setattr
  struct MountAttr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
  };
  constexpr uint64_t kAttrRdonly = 0x1, kAttrNosuid = 0x2, kAttrNodev = 0x4, kAttrNoexec = 0x8;
  MountAttr a{};
  if (ms & MS_RDONLY) a.attr_set |= kAttrRdonly;
  if (ms & MS_NOSUID) a.attr_set |= kAttrNosuid;
  if (ms & MS_NODEV) a.attr_set |= kAttrNodev;
  if (ms & MS_NOEXEC) a.attr_set |= kAttrNoexec;
  return static_cast<int>(::syscall(SYS_mount_setattr, mount_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a));
#else
  (void)mount_fd;
  (void)ms;
  errno = ENOSYS;
  return -1;
#endif
}

// Mounts onto `target` (inside the root) and re-applies `flags` per mount when
// the mount is a bind (binds ignore flags on the first call).
//
// A recursive bind (MS_REC) also brings the source's submounts, and a bind
// remount changes the top mount alone: a `read_only` bind of a host directory
// with a tmpfs (or any other mount) below it left that submount writable,
// suid and dev in the container, which, as the host's root without a user
// namespace, wrote the host's files there and left a setuid-root program for
// the host's users. So the flags go on every mount of the tree
// (mount_setattr with AT_RECURSIVE); on a kernel without mount_setattr the
// bind is made again without MS_REC: the submounts are then not shown at all,
// never shown without the flags.
Status mount_in_root(int root_fd, const std::string& target, const std::string& src,
                     const char* type, unsigned long flags, const std::string& data,
                     bool dir = true, bool no_mount_setattr = false) {
  auto fd = open_in_root(root_fd, target, O_PATH | (dir ? O_DIRECTORY : 0));
  if (!fd.ok()) return std::move(fd.error().context("mount target (must exist in the rootfs)"));
  NESTBOX_TRY(do_mount(src, fd_path(fd->get()), type, flags, data, target));
  if (!(flags & MS_BIND)) return {};
  unsigned long extra = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  if (!extra) return {};
  auto mounted = open_in_root(root_fd, target, O_PATH);
  if (!mounted.ok()) return std::move(mounted).error();
  if (flags & MS_REC) {
    if (no_mount_setattr) {
      errno = ENOSYS;
    } else if (set_attributes_recursively(mounted->get(), extra) == 0) {
      return {};
    }
    if (errno != ENOSYS) return sys_error("mount " + target + " (flags on every mount below it)");
    if (::umount2(fd_path(mounted->get()).c_str(), MNT_DETACH) != 0)
      return sys_error("mount " + target + " (undo the recursive bind)");
    NESTBOX_TRY(do_mount(src, fd_path(fd->get()), type, flags & ~static_cast<unsigned long>(MS_REC), data, target));
    mounted = open_in_root(root_fd, target, O_PATH);
    if (!mounted.ok()) return std::move(mounted).error();
  }
  return do_mount("", fd_path(mounted->get()), nullptr, MS_BIND | MS_REMOUNT | extra, "",
                  target + " (remount)");
}

std::string octal(unsigned mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%o", mode);
  return buf;
}

Status mount_proc(int root_fd) {
  NESTBOX_TRY(mount_in_root(root_fd, "/proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
  // Kernel knobs stay read-only; information leaks are covered with /dev/null.
  for (const char* p : policy::kProcReadonlyPaths) {
    auto fd = open_in_root(root_fd, p, O_PATH);
    if (!fd.ok()) continue;  // not in this kernel
    std::string at = fd_path(fd->get());
    NESTBOX_TRY(do_mount(at, at, nullptr, MS_BIND | MS_REC, "", p));
    auto again = open_in_root(root_fd, p, O_PATH);
    if (!again.ok()) return std::move(again).error();
    NESTBOX_TRY(do_mount("", fd_path(again->get()), nullptr,
                         MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "", p));
  }
  // The mask is the host's /dev/null, bound read-only: through a writable
  // bind a container running as host root could chmod the host's /dev/null
  // (its owner) and break every program on the router that writes to it.
  for (const char* p : policy::kProcMaskedFiles) {
    auto fd = open_in_root(root_fd, p, O_PATH);
    if (!fd.ok()) continue;
    NESTBOX_TRY(do_mount("/dev/null", fd_path(fd->get()), nullptr, MS_BIND, "", p));
    auto again = open_in_root(root_fd, p, O_PATH);
    if (!again.ok()) return std::move(again).error();
    NESTBOX_TRY(do_mount("", fd_path(again->get()), nullptr,
                         MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "", p));
  }
  return {};
}

struct DevNode {
  const char* name;
  unsigned major, minor;
};
constexpr DevNode kDevNodes[] = {{"null", 1, 3}, {"zero", 1, 5},    {"full", 1, 7},
                                 {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

// An id inside the container as the host sees it (no user namespace: itself).
Result<uint32_t> host_id(const std::vector<policy::IdMap>& map, uint32_t inside) {
  if (map.empty()) return inside;
  for (const policy::IdMap& m : map)
    if (inside >= m.inside && inside - m.inside < m.count) return m.outside + (inside - m.inside);
  return bad_input("id " + std::to_string(inside) + " is not mapped into the container");
}

// Declared devices below /dev: the /dev tmpfs hides the image's own nodes,
// so the launcher creates them there (directories on the way, 0755), with
// the declared mode and owner. Component by component, never following a link.
Status make_declared_devices(int dev_fd, const policy::Policy& p) {
  for (const policy::Device& d : p.devices) {
    if (d.path.rfind("/dev/", 0) != 0) continue;
    std::string rel = d.path.substr(5);
    auto uid = host_id(p.uid_map, d.uid);
    if (!uid.ok()) return std::move(uid.error().context(d.path));
    auto gid = host_id(p.gid_map, d.gid);
    if (!gid.ok()) return std::move(gid.error().context(d.path));
    UniqueFd dir(::fcntl(dev_fd, F_DUPFD_CLOEXEC, 0));
    if (!dir) return sys_error("dup /dev");
    for (size_t i = 0;;) {
      size_t j = rel.find('/', i);
      std::string part = rel.substr(i, j == std::string::npos ? std::string::npos : j - i);
      if (part.empty() || part == "." || part == "..") return bad_input("device path " + d.path);
      if (j == std::string::npos) {
        mode_t type = d.type == policy::DeviceType::kBlock ? S_IFBLK : S_IFCHR;
        if (::mknodat(dir.get(), part.c_str(), type | 0600, makedev(d.major, d.minor)) != 0 ||
            ::fchownat(dir.get(), part.c_str(), *uid, *gid, AT_SYMLINK_NOFOLLOW) != 0 ||
            ::fchmodat(dir.get(), part.c_str(), d.mode & 07777, 0) != 0)
          return sys_error("mknod " + d.path);
        break;
      }
      if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST)
        return sys_error("mkdir " + d.path.substr(0, 5 + j));
      UniqueFd next(::openat(dir.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next) return sys_error("open " + d.path.substr(0, 5 + j));
      dir = std::move(next);
      i = j + 1;
    }
  }
  return {};
}

Status mount_dev(int root_fd, const policy::Policy& policy) {
  NESTBOX_TRY(mount_in_root(root_fd, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC,
                            "mode=755,size=64k"));
  auto dev = open_in_root(root_fd, "/dev", O_RDONLY | O_DIRECTORY);
  if (!dev.ok()) return std::move(dev).error();
  int d = dev->get();
  for (const DevNode& n : kDevNodes)
    if (::mknodat(d, n.name, S_IFCHR | 0666, makedev(n.major, n.minor)) != 0 ||
        ::fchmodat(d, n.name, 0666, 0) != 0)  // whatever the umask
      return sys_error(std::string("mknod /dev/") + n.name);
  if (::mkdirat(d, "pts", 0755) != 0 || ::mkdirat(d, "shm", 01777) != 0)
    return sys_error("mkdir /dev/pts, /dev/shm");
  const char* links[][2] = {{"pts/ptmx", "ptmx"},        {"/proc/self/fd", "fd"},
                            {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
                            {"/proc/self/fd/2", "stderr"}};
  for (auto& l : links)
    if (::symlinkat(l[0], d, l[1]) != 0) return sys_error(std::string("symlink /dev/") + l[1]);
  NESTBOX_TRY(make_declared_devices(d, policy));
  NESTBOX_TRY(mount_in_root(root_fd, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                            "newinstance,ptmxmode=0666,mode=0620"));
  return mount_in_root(root_fd, "/dev/shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                       "mode=1777,size=65536k");
}

Status mount_one(const policy::Mount& m, const Options& options, HostOwner owner, int root_fd) {
  unsigned long flags = ms_flags(m.flags);
  switch (m.kind) {
    case policy::MountKind::kTmpfs: {
      std::string data = "mode=" + octal(m.mode ? m.mode : 01777);
      if (m.size) data += ",size=" + std::to_string(m.size);
      return mount_in_root(root_fd, m.target, "tmpfs", "tmpfs", flags, data);
    }
    case policy::MountKind::kBind: {
      // No symlink on the way: another container's storage may lie there.
      auto src = open_host_source(m.source);
      if (!src.ok()) return std::move(src.error().context("bind source"));
      struct stat st;
      if (::fstat(src->get(), &st) != 0) return sys_error("stat " + m.source);
      return mount_in_root(root_fd, m.target, fd_path(src->get()), nullptr,
                           MS_BIND | MS_REC | flags, "", S_ISDIR(st.st_mode), options.force_no_mount_setattr);
    }
    default:
      return mount_storage(m, options, owner, root_fd);
  }
}

}  // namespace

unsigned long ms_flags(uint32_t f) {
  unsigned long out = 0;
  if (f & policy::kMountReadOnly) out |= MS_RDONLY;
  if (f & policy::kMountNoexec) out |= MS_NOEXEC;
  if (f & policy::kMountNosuid) out |= MS_NOSUID;
  if (f & policy::kMountNodev) out |= MS_NODEV;
  return out;
}

Status mount_inside(const policy::Policy& policy, const Options& options,
                    const std::string& root_dir) {
  // Each target is resolved in the root as it is now: one below a storage
  // would go wherever a symlink the container left there points (the policy
  // reader refuses such a policy; this launcher does not rely on it).
  if (auto nested = policy::target_below_kept(policy.mounts, policy.ipc.ubus_target))
    return failure(nested->first.path + ": mount target lies below " + nested->second.path +
                   ", whose contents the container keeps (a symlink it left there would move this mount); "
                   "expected mount targets outside storage");
  UniqueFd root(::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error("open " + root_dir);
  if (policy.proc) NESTBOX_TRY_CTX(mount_proc(root.get()), "/proc");
  if (policy.sys != policy::SysMode::kNone) {
    unsigned long ro = policy.sys == policy::SysMode::kReadOnly ? MS_RDONLY : 0;
    NESTBOX_TRY(mount_in_root(root.get(), "/sys", "sysfs", "sysfs",
                              ro | MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
  }
  if (policy.dev == policy::DevMode::kMinimal) NESTBOX_TRY_CTX(mount_dev(root.get(), policy), "/dev");
  for (policy::Mount m : policy.mounts) {
    NESTBOX_TRY_CTX(check_size_enforced(m), m.target);
    if (m.kind == policy::MountKind::kStorageOverlay && m.target == "/") continue;  // in rootfs
    // Without declared devices no mount may carry live device nodes (a
    // storage image or a bound directory could bring their own).
    if (policy.devices.empty()) m.flags |= policy::kMountNodev;
    NESTBOX_TRY_CTX(mount_one(m, options, container_root(policy), root.get()), m.target);
    NESTBOX_TRY_CTX(set_storage_owner(m, policy, root.get()), m.target);
  }
  NESTBOX_TRY_CTX(bind_ipc(policy, root.get()), "[ipc.ubus]");
  return {};
}

Status enter_root(const policy::Policy& policy, const std::string& root_dir) {
  // A bind remount sets the mount's flags to exactly these: keep nodev.
  unsigned long nodev = policy.devices.empty() ? MS_NODEV : 0;
  if (policy.read_only_root)
    NESTBOX_TRY(do_mount("", root_dir, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | nodev, "",
                         "/ read-only"));
  if (::chdir(root_dir.c_str()) != 0) return sys_error("chdir " + root_dir);
  if (::syscall(SYS_pivot_root, ".", ".") == 0) {
    // The old root is now stacked under the new one: detach it.
    if (::umount2(".", MNT_DETACH) != 0) return sys_error("detach the old root");
  } else if (errno == EINVAL) {
    // The current root is the initramfs (rootfs cannot be pivoted away):
    // move the new root over it and chroot, as switch_root does.
    std::fprintf(stderr, "nestbox-launch: pivot_root impossible (ramfs root), using chroot\n");
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) return sys_error("move root");
    if (::chroot(".") != 0) return sys_error("chroot");
  } else {
    return sys_error("pivot_root " + root_dir);
  }
  if (::chdir("/") != 0) return sys_error("chdir /");
  return {};
}

}  // namespace nestbox::launcher
