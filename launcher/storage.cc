#include "launcher/storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <memory>
#include <vector>

#include "util/loop_device.h"
#include "launcher/mounts.h"
#include "launcher/rootpath.h"
#include "launcher/uevent.h"
#include "util/file_io.h"
#include "util/open_in_root.h"

namespace nestbox::launcher {
namespace {

constexpr unsigned kRenameNoReplace = 1;  // RENAME_NOREPLACE (linux/fs.h; libcs differ in declaring it)

// mkfs on the open file `fd`, handed to the tool as its fd 3 (named
// /proc/self/fd/3): the file created in the held directory, never its path.
Status run_mkfs(const std::string& fstype, int fd, const std::string& shown) {
  std::string tool = "mkfs." + fstype;
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork " + tool);
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 1);
    if (fd == 3 ? ::fcntl(3, F_SETFD, 0) != 0 : ::dup2(fd, 3) != 3) ::_exit(126);
    const char* file = "/proc/self/fd/3";
    if (fstype.rfind("ext", 0) == 0)
      ::execlp(tool.c_str(), tool.c_str(), "-q", "-F", file, nullptr);
    else
      ::execlp(tool.c_str(), tool.c_str(), file, nullptr);
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return failure(tool + " " + shown + " failed (status " + std::to_string(status) + ")");
  return {};
}

// Mounts `dev`; a filesystem created just now is given to the container's root.
Status mount_dev_in_root(const std::string& dev, const policy::Mount& m, int root_fd,
                         const HostOwner* fresh_owner = nullptr) {
  auto fd = open_in_root(root_fd, m.target, O_PATH | O_DIRECTORY);
  if (!fd.ok()) return std::move(fd.error().context("mount target (must exist in the rootfs)"));
  if (::mount(dev.c_str(), fd_path(fd->get()).c_str(), m.fstype.c_str(), ms_flags(m.flags),
              nullptr) != 0)
    return sys_error("mount " + dev + " (" + m.fstype + ")");
  if (fresh_owner && (fresh_owner->uid || fresh_owner->gid)) {
    auto top = open_in_root(root_fd, m.target, O_RDONLY | O_DIRECTORY);
    if (!top.ok()) return std::move(top).error();
    if (::fchown(top->get(), fresh_owner->uid, fresh_owner->gid) != 0)
      return sys_error("chown " + m.target);
  }
  return {};
}

// A storage image the launcher did not just make is mounted as it is found.
// Its declared size is the most of the host's storage the container may
// take: a longer file (made for an earlier, larger size, or put there by
// someone else) would give it more, so it is refused rather than used. A
// file with a second name (a hard link) can be written through that name,
// by whoever reaches it, while the host's kernel has its filesystem mounted.
Status check_image_file(const struct stat& st, const policy::Mount& m) {
  if (st.st_nlink != 1)
    return failure("storage image " + m.source + ": has " + std::to_string(st.st_nlink) +
                   " names (hard links); expected a file only this store names");
  if (static_cast<uint64_t>(st.st_size) > m.size)
    return failure("storage image " + m.source + ": is " + std::to_string(st.st_size) +
                   " bytes, more than its declared size of " + std::to_string(m.size) +
                   "; expected at most that (remove or shrink the image to start with this policy)");
  return {};
}

// One image file under two loop devices is one filesystem mounted twice by
// the host's kernel, each mount's metadata changed under the other by writes
// through the other: the container (two mounts of the same image in its
// policy) or two containers sharing it would craft a filesystem under a
// live mount. The lock is taken on the open file the loop device is given
// and keeps (flock belongs to that open file): it lasts while the loop device
// holds the file, whatever the launcher closes. Writable mounts exclude any
// other; read-only ones share.
Status lock_image_file(int fd, const std::string& path, bool read_only) {
  for (int tries = 0;; ++tries) {
    if (::flock(fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0) return {};
    if (errno != EWOULDBLOCK) return sys_error("storage image " + path + ": lock");
    // The previous start's loop device may still be letting it go.
    if (tries == 20)
      return failure("storage image " + path + ": in use by another mount (a container's storage); "
                     "expected one mount of it at a time");
    ::usleep(50 * 1000);
  }
}

}  // namespace

HostOwner container_root(const policy::Policy& p) {
  HostOwner o;
  o.host_root_reachable = p.uid_map.empty();  // no user namespace: the host's ids
  for (const policy::IdMap& m : p.uid_map) {
    if (m.inside == 0 && m.count) o.uid = m.outside;
    if (m.outside == 0 && m.count) o.host_root_reachable = true;
  }
  for (const policy::IdMap& m : p.gid_map)
    if (m.inside == 0 && m.count) o.gid = m.outside;
  return o;
}

Result<uint32_t> host_id(const std::vector<policy::IdMap>& map, uint32_t id, const char* what) {
  if (map.empty()) return id;
  for (const policy::IdMap& m : map)
    if (id >= m.inside && id - m.inside < m.count) return m.outside + (id - m.inside);
  return bad_input(std::string(what) + " " + std::to_string(id) + " is not mapped by the user namespace");
}

Status set_storage_owner(const policy::Mount& m, const policy::Policy& p, int root_fd) {
  if (m.kind == policy::MountKind::kTmpfs || m.kind == policy::MountKind::kBind) return {};
  if (!m.owner_set && m.mode == 0) return {};
  // The mounted storage's root, resolved inside the container's root: a
  // directory, never followed through a symlink.
  auto top = open_in_root(root_fd, m.target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!top.ok()) return std::move(top.error().context("storage root"));
  if (m.owner_set) {
    auto uid = host_id(p.uid_map, m.uid, "storage owner uid");
    if (!uid.ok()) return std::move(uid).error();
    auto gid = host_id(p.gid_map, m.gid, "storage owner gid");
    if (!gid.ok()) return std::move(gid).error();
    if (::fchown(top->get(), *uid, *gid) != 0) return sys_error("chown storage root " + m.target);
  }
  if (m.mode && ::fchmod(top->get(), m.mode) != 0) return sys_error("chmod storage root " + m.target);
  return {};
}

namespace {

// The directory holding host path `path`'s last component, reached from "/"
// without following a symlink (missing ones made 0700 with `create`), and
// that component ("" for "/").
struct HostParent {
  UniqueFd dir;
  std::string name;
};
Result<HostParent> open_host_parent(const std::string& path, bool create) {
  if (path.empty() || path[0] != '/') return bad_input(path + ": not an absolute host path");
  size_t last = path.find_last_not_of('/');
  size_t cut = last == std::string::npos ? 0 : path.rfind('/', last);
  std::string name = last == std::string::npos ? "" : path.substr(cut + 1, last - cut);
  size_t end = 0;
  UniqueFd dir = open_path_no_symlinks(cut == 0 ? "/" : path.substr(0, cut), create, &end, 0700);
  if (!dir) {
    std::string failed = path.substr(0, end);
    if (errno == ELOOP || errno == ENOTDIR)
      return failure(path + ": " + failed + " is not a directory (a symlink on the way to a host source is refused)");
    return sys_error(path + (create ? ": mkdir " : ": open ") + failed);
  }
  if (name == "." || name == "..") return bad_input(path + ": '.' and '..' are refused in a host path");
  return HostParent{std::move(dir), std::move(name)};
}

}  // namespace

Status ensure_host_dir(const std::string& dir, HostOwner owner) {
  auto up = open_host_parent(dir, /*create=*/true);
  if (!up.ok()) return std::move(up).error();
  if (up->name.empty()) return {};  // "/"
  bool made = ::mkdirat(up->dir.get(), up->name.c_str(), 0700) == 0;
  if (!made && errno != EEXIST) return sys_error("mkdir " + dir);
  UniqueFd made_fd(::openat(up->dir.get(), up->name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!made_fd) {
    if (errno == ELOOP || errno == ENOTDIR)
      return failure(dir + " is not a directory (a symlink as a host source is refused)");
    return sys_error("open " + dir);
  }
  if (made && (owner.uid || owner.gid) && ::fchown(made_fd.get(), owner.uid, owner.gid) != 0)
    return sys_error("chown " + dir);
  return {};
}

Result<UniqueFd> open_host_source(const std::string& path) {
  auto up = open_host_parent(path, /*create=*/false);
  if (!up.ok()) return std::move(up).error();
  if (up->name.empty()) return std::move(up->dir);  // "/"
  const std::string& name = up->name;
  const UniqueFd& dir = up->dir;
  UniqueFd fd(::openat(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_error(path + ": open");
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error(path + ": stat");
  if (S_ISLNK(st.st_mode)) return failure(path + ": is a symlink (a symlink as a host source is refused)");
  return fd;
}

Status check_host_storage_closed(const std::string& dir, HostOwner owner) {
  if (owner.uid != 0 && !owner.host_root_reachable) return {};
  for (size_t end = dir.rfind('/'); end != std::string::npos && end > 0; end = dir.rfind('/', end - 1)) {
    std::string above = dir.substr(0, end);
    struct stat st;
    if (::stat(above.c_str(), &st) != 0) return sys_error("stat " + above);
    bool others_shut_out = !(st.st_mode & S_IXOTH) && (st.st_gid == 0 || !(st.st_mode & S_IXGRP));
    if (st.st_uid == 0 && S_ISDIR(st.st_mode) && others_shut_out) return {};
  }
  return failure(dir + ": lies below no directory that only root can enter, and the container writes it as the "
                 "host's root (no user namespace): it could leave a setuid-root program there for the host's other "
                 "users; expected it below a directory of mode 0700 (nestbox creates missing ones so), or a user "
                 "namespace");
}

Result<bool> ensure_image_file(int dir_fd, const std::string& path, uint64_t size, const std::string& fstype) {
  std::string name = path.substr(path.rfind('/') + 1);
  if (name.empty() || name == "." || name == "..") return bad_input(path + ": not a file name");
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return false;  // checked when opened
  if (errno != ENOENT) return sys_error("stat " + path);
  if (!size) return bad_input(path + ": storage image is missing and has no size to create it");
  std::string tmp = name + ".tmp", shown = path + ".tmp";
  ::unlinkat(dir_fd, tmp.c_str(), 0);
  UniqueFd fd(::openat(dir_fd, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return sys_error("create " + shown);
  Status made = ::ftruncate(fd.get(), static_cast<off_t>(size)) == 0 ? Status{} : sys_error("size " + shown);
  if (made.ok()) made = run_mkfs(fstype, fd.get(), shown);
  if (made.ok() && ::fsync(fd.get()) != 0) made = sys_error("fsync " + shown);
  // Never over a file that appeared meanwhile (RENAME_NOREPLACE); a
  // filesystem without it gets a link, which refuses one as well.
  if (made.ok() && ::syscall(SYS_renameat2, dir_fd, tmp.c_str(), dir_fd, name.c_str(), kRenameNoReplace) != 0) {
    if (errno != EINVAL && errno != ENOSYS)
      made = sys_error("rename " + shown);
    else if (::linkat(dir_fd, tmp.c_str(), dir_fd, name.c_str(), 0) != 0)
      made = sys_error("link " + shown);
  }
  ::unlinkat(dir_fd, tmp.c_str(), 0);  // left only when the rename failed or a link was made
  if (!made.ok()) return std::move(made).error();
  return true;
}

std::vector<LabelledBlockDevice> block_devices_labelled(const std::string& name, const std::string& class_block) {
  std::vector<LabelledBlockDevice> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(class_block.c_str()), &::closedir);
  if (!d) return out;  // no sysfs: the partition directory is all there is
  while (dirent* e = ::readdir(d.get())) {
    std::string dev = e->d_name;
    if (dev == "." || dev == "..") continue;
    auto text = read_file(class_block + "/" + dev + "/uevent");
    if (!text.ok()) continue;  // gone meanwhile
    auto vars = parse_uevent_file(*text);
    if (!vars.ok()) continue;
    const std::string* label = uevent_var(*vars, "PARTNAME");
    const std::string* major = uevent_var(*vars, "MAJOR");
    const std::string* minor = uevent_var(*vars, "MINOR");
    if (!label || *label != name || !major || !minor) continue;
    char* end = nullptr;
    unsigned long maj = std::strtoul(major->c_str(), &end, 10);
    if (major->empty() || *end) continue;
    unsigned long min = std::strtoul(minor->c_str(), &end, 10);
    if (minor->empty() || *end) continue;
    out.push_back({dev, makedev(static_cast<unsigned>(maj), static_cast<unsigned>(min))});
  }
  std::sort(out.begin(), out.end(),
            [](const LabelledBlockDevice& x, const LabelledBlockDevice& y) { return x.name < y.name; });
  return out;
}

Result<std::string> find_partition(const std::string& name, const std::string& dir, const std::string& class_block) {
  if (name.empty() || name.find('/') != std::string::npos)
    return bad_input("partition name '" + name + "' is empty or contains '/'");
  // A label names a partition only while one device carries it: a USB stick
  // plugged in with the label of the NAS's data partition would otherwise
  // take its place (a by-partlabel link follows the last one added).
  std::vector<LabelledBlockDevice> labelled = block_devices_labelled(name, class_block);
  if (labelled.size() > 1) {
    std::string list;
    for (const LabelledBlockDevice& dev : labelled) list += (list.empty() ? "" : ", ") + dev.name;
    return failure("partition '" + name + "' is named by " + std::to_string(labelled.size()) +
                   " block devices (" + list + "); expected one: refusing to guess which holds the data");
  }
  struct stat st;
  if (labelled.size() == 1) {
    // devtmpfs names the node as sysfs does (OpenWrt has no by-partlabel
    // links); it must be that very device.
    std::string node = "/dev/" + labelled[0].name;
    if (::stat(node.c_str(), &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == labelled[0].dev) return node;
  }
  std::string by_name = dir + "/" + name;
  if (::stat(by_name.c_str(), &st) == 0) {
    if (!S_ISBLK(st.st_mode)) return failure(by_name + ": not a block device");
    if (labelled.size() == 1 && st.st_rdev != labelled[0].dev)
      return failure(by_name + ": is not " + labelled[0].name + ", the one block device labelled '" + name + "'");
    return by_name;
  }
  auto mtd = read_file("/proc/mtd");  // "mtd3: 00100000 00010000 \"data\""
  if (mtd.ok()) {
    size_t pos = mtd->find("\"" + name + "\"");
    if (pos != std::string::npos) {
      size_t line = mtd->rfind('\n', pos);
      line = line == std::string::npos ? 0 : line + 1;
      size_t colon = mtd->find(':', line);
      if (colon != std::string::npos && mtd->compare(line, 3, "mtd") == 0)
        return "/dev/mtdblock" + mtd->substr(line + 3, colon - line - 3);
    }
  }
  return failure("partition '" + name + "' not found in " + class_block + ", " + dir + " or /proc/mtd");
}

Status check_size_enforced(const policy::Mount& m) {
  if (m.size == 0 || m.kind == policy::MountKind::kTmpfs || m.kind == policy::MountKind::kStorageImage) return {};
  return failure("a size (" + std::to_string(m.size) + " bytes) is enforced only on a tmpfs or an image storage; "
                 "this mount has no size limit: expected no size, or an image storage");
}

Status mount_storage(const policy::Mount& m, const Options& options, HostOwner owner,
                     int root_fd) {
  switch (m.kind) {
    case policy::MountKind::kStorageDir: {
      NESTBOX_TRY(ensure_host_dir(m.source, owner));
      NESTBOX_TRY(check_host_storage_closed(m.source, owner));
      auto fd = open_in_root(root_fd, m.target, O_PATH | O_DIRECTORY);
      if (!fd.ok()) return std::move(fd.error().context("mount target (must exist in the rootfs)"));
      std::string at = fd_path(fd->get());
      // Bound from the descriptor opened without symlinks, never the path again.
      auto src = open_host_source(m.source);
      if (!src.ok()) return std::move(src).error();
      struct stat st;
      if (::fstat(src->get(), &st) != 0 || !S_ISDIR(st.st_mode))
        return failure(m.source + ": not a directory");
      if (::mount(fd_path(src->get()).c_str(), at.c_str(), nullptr, MS_BIND, nullptr) != 0)
        return sys_error("bind " + m.source);
      auto again = open_in_root(root_fd, m.target, O_PATH);
      if (!again.ok()) return std::move(again).error();
      unsigned long flags = ms_flags(m.flags);
      if (flags && ::mount("", fd_path(again->get()).c_str(), nullptr,
                           MS_BIND | MS_REMOUNT | flags, nullptr) != 0)
        return sys_error("remount " + m.target);
      return {};
    }
    case policy::MountKind::kStorageImage: {
      // Its directory reached without a symlink (another container's storage
      // may lie on the way) before anything is created there.
      size_t cut = m.source.rfind('/');
      auto dir = open_host_source(cut == 0 ? std::string("/") : m.source.substr(0, cut));
      if (!dir.ok()) return std::move(dir.error().context("storage image"));
      auto created = ensure_image_file(dir->get(), m.source, m.size, m.fstype);
      if (!created.ok()) return std::move(created).error();
      // Opened once (no symlink, no FIFO, a regular file) and attached through
      // that fd: what was checked is what the loop device reads.
      bool read_only = (m.flags & policy::kMountReadOnly) != 0;
      auto file = open_backing_file(m.source, read_only);
      if (!file.ok()) return std::move(file.error().context("storage image"));
      auto named = open_host_source(m.source);
      if (!named.ok()) return std::move(named.error().context("storage image"));
      struct stat opened, reached;
      if (::fstat(file->get(), &opened) != 0 || ::fstat(named->get(), &reached) != 0 ||
          opened.st_dev != reached.st_dev || opened.st_ino != reached.st_ino)
        return failure("storage image " + m.source + ": changed while it was opened");
      NESTBOX_TRY(check_image_file(opened, m));
      NESTBOX_TRY(lock_image_file(file->get(), m.source, read_only));
      LoopRequest req{m.source, 0, 0, read_only, options.force_legacy_loop, file->get()};
      auto loop = LoopDevice::attach(req);
      if (!loop.ok()) return std::move(loop).error();
      // autoclear: the loop device is freed with the mount.
      return mount_dev_in_root(loop->path(), m, root_fd, *created ? &owner : nullptr);
    }
    case policy::MountKind::kStoragePartition: {
      auto dev = find_partition(m.source, options.partition_dir);
      if (!dev.ok()) return std::move(dev).error();
      return mount_dev_in_root(*dev, m, root_fd);
    }
    case policy::MountKind::kStorageOverlay: {
      auto fd = open_in_root(root_fd, m.target, O_PATH | O_DIRECTORY);
      if (!fd.ok()) return std::move(fd.error().context("mount target (must exist in the rootfs)"));
      NESTBOX_TRY(ensure_host_dir(m.source + "/upper", owner));
      NESTBOX_TRY(check_host_storage_closed(m.source + "/upper", owner));
      NESTBOX_TRY(ensure_host_dir(m.source + "/work"));
      // Both layers reached without a symlink and named by descriptor.
      auto upper = open_host_source(m.source + "/upper");
      if (!upper.ok()) return std::move(upper).error();
      auto work = open_host_source(m.source + "/work");
      if (!work.ok()) return std::move(work).error();
      std::string at = fd_path(fd->get());
      std::string data = "lowerdir=" + at + ",upperdir=" + fd_path(upper->get()) + ",workdir=" +
                         fd_path(work->get());
      if (::mount("overlay", at.c_str(), "overlay", ms_flags(m.flags), data.c_str()) != 0)
        return sys_error("mount overlay " + data);
      return {};
    }
    default:
      return bad_input("unknown mount kind " + std::to_string(static_cast<int>(m.kind)));
  }
}

}  // namespace nestbox::launcher
