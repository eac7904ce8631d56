#include "launcher/features.h"

#include <linux/capability.h>
#include <unistd.h>

#include "launcher/cgroups.h"
#include "launcher/namespaces.h"
#include "launcher/state.h"
#include "util/file_io.h"
#include "util/host_root.h"

namespace nestbox::launcher {
namespace {

const char* const kNsConfig[policy::kNsCount] = {"CONFIG_NAMESPACES", "CONFIG_UTS_NS",
                                                 "CONFIG_IPC_NS",     "CONFIG_PID_NS",
                                                 "CONFIG_NET_NS",     "CONFIG_USER_NS",
                                                 "CONFIG_CGROUPS"};

Status missing(const std::string& what, const char* config) {
  return failure(std::string("kernel lacks ") + what + " (" + config + ")");
}

bool has_filesystem(const std::string& fs) {
  auto r = read_file("/proc/filesystems");
  return r.ok() && r->find("\t" + fs + "\n") != std::string::npos;
}

}  // namespace

Status check_policy(const policy::Policy& p) {
  NESTBOX_TRY(check_name(p.name));
  bool nestbox_init = p.process.model == policy::Model::kSystem && !p.process.services.empty();
  if (p.process.argv.empty() ? !nestbox_init : p.process.argv[0].empty())
    return bad_input("policy " + p.name + ": process.argv is empty");
  if (p.namespaces[policy::kNsPid].mode == policy::NsMode::kJoin &&
      p.namespaces[policy::kNsMount].mode != policy::NsMode::kJoin)
    return bad_input("policy " + p.name + ": joining a pid namespace needs joining its mount namespace");
  if (!p.uid_map.empty() != !p.gid_map.empty())
    return bad_input("policy " + p.name + ": user namespace needs both uid_map and gid_map");
  // In the host's pid namespace the container can name the launcher, `boot`
  // and every sibling by pid, and kill() needs no capability between equal
  // uids: only a new user namespace that maps no id to host root keeps the
  // container's uids apart from the launcher's.
  if (p.namespaces[policy::kNsPid].mode == policy::NsMode::kHost) {
    bool host_root = !ns_new(p, policy::kNsUser);
    for (const policy::IdMap& m : p.uid_map)
      if (m.outside == 0 && m.count > 0) host_root = true;
    if (host_root)
      return bad_input("policy " + p.name +
                       ": the host's pid namespace needs a new user namespace that does not map host uid 0 "
                       "(the container could signal the launcher and other containers)");
  }
  // What only a process that is not the host's root may have: a writable
  // /sys (its root-owned 0644 knobs need no capability) and the ubus socket
  // (ubusd checks no ACL for uid 0). A process that can become host uid 0
  // counts as it: without no_new_privs a setuid-root program (in the image, on
  // a storage partition, in a bind) changes its uid whatever the bounding set,
  // and CAP_SETUID does too. The policy reader refuses the same (util/host_root.h).
  bool host_root = may_become_host_root(ns_new(p, policy::kNsUser), p.uid_map, p.process.uid, p.no_new_privs,
                                        (p.caps.keep >> CAP_SETUID) & 1);
  // /sys has files its root group may write too (a PCI device's `remove`).
  bool host_group = may_join_host_root_group(ns_new(p, policy::kNsUser), p.gid_map, p.process.gid, p.process.groups,
                                             p.no_new_privs, (p.caps.keep >> CAP_SETGID) & 1);
  if ((host_root || host_group) && p.sys == policy::SysMode::kReadWrite)
    return bad_input("policy " + p.name +
                     ": a writable /sys for a process that is or can become the host's root (uid or gid 0, also a "
                     "supplementary group; or no_new_privs off, or CAP_SETUID or CAP_SETGID, without a user namespace "
                     "mapping uid and gid 0 elsewhere)");
  if (host_root && !p.ipc.ubus_socket.empty())
    return bad_input("policy " + p.name +
                     ": the ubus socket for a process that is or can become the host's root (uid 0; or no_new_privs "
                     "off, or CAP_SETUID, without a user namespace mapping uid 0 elsewhere): ubusd checks no ACL for "
                     "uid 0");
  // The container's cgroup files belong to kCgroupOwner so that it cannot
  // write them (cgroups.h): a container with that id would own them.
  bool owner = !ns_new(p, policy::kNsUser) && (p.process.uid == kCgroupOwner || p.process.gid == kCgroupOwner);
  for (const auto* maps : {&p.uid_map, &p.gid_map})
    for (const policy::IdMap& m : *maps)
      if (m.outside <= kCgroupOwner && kCgroupOwner - m.outside < m.count) owner = true;
  if (owner)
    return bad_input("policy " + p.name + ": host id " + std::to_string(kCgroupOwner) +
                     " is reserved (it owns the container's cgroup files)");
  for (const std::string& e : p.process.env)
    if (e.find('=') == std::string::npos || e.find('\n') != std::string::npos)
      return bad_input("policy " + p.name + ": environment entry '" + e + "' is not KEY=value on one line");
  if (p.process.cwd.find('\n') != std::string::npos)
    return bad_input("policy " + p.name + ": cwd contains a newline");
  for (const policy::Mount& m : p.mounts)
    if (m.target.empty() || m.target[0] != '/')
      return bad_input("policy " + p.name + ": mount target '" + m.target + "' is not absolute");
  return {};
}

Status check_kernel(const policy::Policy& p, const RootfsSource& source) {
  for (int i = 0; i < policy::kNsCount; ++i) {
    if (!ns_new(p, i) && p.namespaces[i].mode != policy::NsMode::kJoin) continue;
    std::string file = std::string("/proc/self/ns/") + ns_name(i);
    if (::access(file.c_str(), F_OK) != 0) return missing(std::string(ns_name(i)) + " namespaces", kNsConfig[i]);
  }
  if (ns_new(p, policy::kNsUser)) {
    auto max = read_file("/proc/sys/user/max_user_namespaces");
    if (max.ok() && std::atol(max->c_str()) == 0)
      return missing("user namespaces (user.max_user_namespaces is 0)", "CONFIG_USER_NS");
  }
  if (!p.seccomp.bpf.empty()) {
    auto status = read_file("/proc/self/status");
    if (!status.ok() || status->find("Seccomp_filters:") == std::string::npos)
      return missing("seccomp filters", "CONFIG_SECCOMP_FILTER");
  }
  using Kind = RootfsSource::Kind;
  if (source.kind != Kind::kTree) {
    if (!has_filesystem("squashfs")) return missing("squashfs", "CONFIG_SQUASHFS");
    if (::access("/dev/loop-control", F_OK) != 0) return missing("loop devices", "CONFIG_BLK_DEV_LOOP");
  }
  bool overlay = source.kind == Kind::kOverlay || !p.read_only_root;
  for (const policy::Mount& m : p.mounts) overlay |= m.kind == policy::MountKind::kStorageOverlay;
  if (overlay && !has_filesystem("overlay")) return missing("overlayfs", "CONFIG_OVERLAY_FS");
  if (p.cgroups.memory_max && ::access("/sys/fs/cgroup", F_OK) != 0)
    return missing("cgroups", "CONFIG_CGROUPS");
  return {};
}

}  // namespace nestbox::launcher
