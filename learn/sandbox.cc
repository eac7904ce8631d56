#include "learn/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/fd.h"
#include "util/open_in_root.h"

namespace nestbox::learn {
namespace {

using manifests::Manifest;
using manifests::NsMode;

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// Paths inside the rootfs are resolved by the kernel beneath it: a symlink in
// an untrusted tree cannot send a mount outside.
// (util/open_in_root.h: the one openat2 wrapper.)
Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags) {
  UniqueFd fd = open_confined(root_fd, path, flags, Confine::kInRoot);
  if (!fd) return sys_error("mount point " + path + " in the rootfs");
  return fd;
}

Status mount_at(int root_fd, const std::string& target, const char* source, const char* type,
                unsigned long flags, const std::string& data) {
  auto fd = open_in_root(root_fd, target, O_PATH | O_DIRECTORY);
  if (!fd.ok()) return std::move(fd).error();
  if (::mount(source, fd_path(fd->get()).c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
    return sys_error(std::string("mount ") + type + " on " + target);
  return ok_status();
}

// The host id `id` maps to (the id itself without a user namespace).
uint32_t host_id(const std::vector<manifests::IdMapRange>& map, bool userns, uint32_t id) {
  if (!userns) return id;
  for (const auto& r : map)
    if (id >= r.inside && id - r.inside < r.count) return r.outside + (id - r.inside);
  return 65534;
}

// /dev as the launcher's "minimal": a tmpfs with the harmless character devices.
Status minimal_dev(int root_fd) {
  NESTBOX_TRY(mount_at(root_fd, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k"));
  auto dev = open_in_root(root_fd, "/dev", O_RDONLY | O_DIRECTORY);
  if (!dev.ok()) return std::move(dev).error();
  for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
    UniqueFd node(::openat(dev->get(), name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666));
    if (!node) return sys_error(std::string("create /dev/") + name);
    std::string host = std::string("/dev/") + name;
    if (::mount(host.c_str(), fd_path(node.get()).c_str(), nullptr, MS_BIND, nullptr) != 0)
      return sys_error("bind " + host);
  }
  return ok_status();
}

Status loopback_up() {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return sys_error("lo flags");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) return sys_error("lo up");
  return ok_status();
}

// Keeps exactly the manifest's capabilities: the bounding set loses the rest,
// permitted/effective/inheritable are the mask, and for a non-root user they
// are raised as ambient capabilities (the launcher's model).
Status limit_capabilities(uint64_t mask, uint32_t uid) {
  int last = 0;
  while (::prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) ++last;
  for (int c = 0; c <= last; ++c)
    if (!(mask >> c & 1) && ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) return sys_error("drop capability bound");
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    auto word = static_cast<uint32_t>(mask >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = word;
  }
  if (::syscall(SYS_capset, &hdr, data) != 0) return sys_error("capset");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return sys_error("clear ambient");
  if (uid != 0)
    for (int c = 0; c <= last; ++c)
      if ((mask >> c & 1) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
        return sys_error("raise ambient capability");
  return ok_status();
}

Status expect_byte(int fd, char want) {
  char c = 0;
  if (::read(fd, &c, 1) != 1 || c != want) return failure("lost the learner (parent) while setting up");
  return ok_status();
}

}  // namespace

int clone_flags(const Manifest& m) {
  // Always a new pid namespace: when its first process ends, the kernel kills
  // the rest, so nothing the untrusted program started outlives the run.
  int flags = CLONE_NEWNS | CLONE_NEWPID;
  const auto& ns = m.namespaces;
  if (ns.net.mode != NsMode::kHost) flags |= CLONE_NEWNET;
  if (ns.uts.mode != NsMode::kHost) flags |= CLONE_NEWUTS;
  if (ns.ipc.mode != NsMode::kHost) flags |= CLONE_NEWIPC;
  if (ns.cgroup.mode != NsMode::kHost) flags |= CLONE_NEWCGROUP;
  return flags;
}

Status enter_sandbox(const Manifest& m, const std::string& root, const SandboxPipes& pipes) {
  const bool userns = m.users.user_namespace;
  const uint32_t uid = m.process.uid, gid = m.process.gid;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return sys_error("make / private");
  // The rootfs, read-only, on a bind mount of its own (pivot_root needs a mount).
  UniqueFd host_root(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!host_root) return sys_error(root);
  if (::mount(fd_path(host_root.get()).c_str(), fd_path(host_root.get()).c_str(), nullptr, MS_BIND | MS_REC,
              nullptr) != 0)
    return sys_error("bind " + root);
  UniqueFd rootfd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));  // the bind mount's top
  if (!rootfd) return sys_error(root);
  if (::mount(nullptr, fd_path(rootfd.get()).c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
              nullptr) != 0)
    return sys_error("remount " + root + " read-only");
  const int r = rootfd.get();
  if (m.mounts.proc) NESTBOX_TRY(mount_at(r, "/proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
  if (m.mounts.sys != manifests::SysMode::kNone)
    NESTBOX_TRY(mount_at(r, "/sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, ""));
  if (m.mounts.dev == manifests::DevMode::kMinimal) NESTBOX_TRY(minimal_dev(r));
  auto flags_of = [](bool noexec, bool nosuid, bool nodev) {
    unsigned long f = 0;
    if (noexec) f |= MS_NOEXEC;
    if (nosuid) f |= MS_NOSUID;
    if (nodev) f |= MS_NODEV;
    return f;
  };
  for (const auto& t : m.mounts.tmpfs) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "mode=%o", t.mode);
    std::string opts = mode;
    if (t.size) opts += ",size=" + std::to_string(t.size);
    NESTBOX_TRY(mount_at(r, t.target, "tmpfs", "tmpfs", flags_of(t.noexec, t.nosuid, t.nodev), opts));
  }
  // Storage and host binds are not the learner's to touch: an empty tmpfs owned
  // by the process user stands in for each, so the writes the app makes there
  // are seen.
  const std::string owner = ",uid=" + std::to_string(host_id(m.users.uid_map, userns, uid)) +
                            ",gid=" + std::to_string(host_id(m.users.gid_map, userns, gid));
  for (const auto& s : m.mounts.storage)
    NESTBOX_TRY(mount_at(r, s.target, "tmpfs", "tmpfs", flags_of(s.noexec, s.nosuid, s.nodev),
                         "mode=0700,size=8m" + owner));
  for (const auto& b : m.mounts.binds) {
    unsigned long flags = flags_of(b.noexec, b.nosuid, b.nodev);
    if (b.read_only) flags |= MS_RDONLY;
    NESTBOX_TRY(mount_at(r, b.target, "tmpfs", "tmpfs", flags, "mode=0755,size=1m" + owner));
  }
  if (::fchdir(r) != 0) return sys_error("enter " + root);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return sys_error("pivot_root");
  if (::umount2(".", MNT_DETACH) != 0) return sys_error("detach the host root");
  if (::chdir("/") != 0) return sys_error("chdir /");
  if (m.namespaces.uts.mode != NsMode::kHost) {
    const std::string& h = m.namespaces.hostname.empty() ? m.name : m.namespaces.hostname;
    if (::sethostname(h.data(), h.size()) != 0) return sys_error("sethostname");
  }
  if (m.namespaces.net.mode != NsMode::kHost) NESTBOX_TRY(loopback_up());
  if (userns) {
    if (::unshare(CLONE_NEWUSER) != 0) return sys_error("user namespace");
    if (::write(pipes.to_parent, "U", 1) != 1) return sys_error("tell the learner");
    NESTBOX_TRY(expect_byte(pipes.from_parent, 'M'));
  }
  std::vector<gid_t> groups(m.process.supplementary_gids.begin(), m.process.supplementary_gids.end());
  if (::setgroups(groups.size(), groups.data()) != 0) return sys_error("setgroups");
  if (::setresgid(gid, gid, gid) != 0) return sys_error("setresgid " + std::to_string(gid));
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return sys_error("keepcaps");
  if (::setresuid(uid, uid, uid) != 0) return sys_error("setresuid " + std::to_string(uid));
  NESTBOX_TRY(limit_capabilities(m.security.capability_mask, uid));
  if (::chdir(m.process.cwd.c_str()) != 0) return sys_error("chdir " + m.process.cwd);
  // Always set: the notify filter needs it, and it takes privilege away only.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sys_error("no_new_privs");
  return ok_status();
}

}  // namespace nestbox::learn
