#include "policy/bake.h"

#include "kernel-check/requirements.h"
#include "manifests/effective_seccomp.h"
#include "manifests/mount_kind.h"
#include "policy/format.h"
#include "policy/seccomp_compile.h"

namespace nestbox::policy {
namespace m = manifests;

RootfsKind rootfs_kind(m::RootfsStrategy s) {
  switch (s) {
    case m::RootfsStrategy::kSquashfs: return RootfsKind::kSquashfs;
    case m::RootfsStrategy::kOverlay: return RootfsKind::kOverlay;
    case m::RootfsStrategy::kTree: return RootfsKind::kTree;
    case m::RootfsStrategy::kHostHardlink: return RootfsKind::kHostHardlink;
  }
  return RootfsKind::kSquashfs;
}

namespace {

Namespace ns(const m::Namespace& n) { return Namespace{static_cast<NsMode>(n.mode), n.join}; }

uint32_t flags(bool ro, bool noexec, bool nosuid, bool nodev) {
  uint32_t f = 0;
  if (ro) f |= kMountReadOnly;
  if (noexec) f |= kMountNoexec;
  if (nosuid) f |= kMountNosuid;
  if (nodev) f |= kMountNodev;
  return f;
}

std::vector<Mount> mounts(const m::Mounts& in, const m::Process& proc) {
  std::vector<Mount> out;
  for (const m::TmpfsMount& t : in.tmpfs)
    out.push_back({MountKind::kTmpfs, "", t.target, "", t.size, t.mode, flags(false, t.noexec, t.nosuid, t.nodev)});
  for (const m::BindMount& b : in.binds)
    out.push_back({MountKind::kBind, b.source, b.target, "", 0, 0, flags(b.read_only, b.noexec, b.nosuid, b.nodev)});
  for (const m::StorageMount& s : in.storage) {
    MountKind kind = m::mount_kind(s.kind);
    bool typed = kind == MountKind::kStorageImage || kind == MountKind::kStoragePartition;
    Mount o{kind, s.source, s.target, typed ? s.fstype : "", s.size, s.mode,
            flags(false, s.noexec, s.nosuid, s.nodev)};
    if (s.owner_kind != m::StorageMount::OwnerKind::kUnset) {
      bool process = s.owner_kind == m::StorageMount::OwnerKind::kProcess;
      o.owner_set = true;
      o.uid = process ? proc.uid : s.owner.uid;
      o.gid = process ? proc.gid : s.owner.gid;
    }
    out.push_back(std::move(o));
  }
  return out;
}

Interface interface(const m::NetInterface& i) {
  Interface o;
  o.type = static_cast<IfType>(i.type);
  o.name = i.name;
  o.parent = i.parent;
  o.bridge = i.bridge;
  o.host_name = i.host_name;
  o.mac = i.mac;
  o.vlan_id = i.vlan_id;
  o.macvlan_mode = static_cast<MacvlanMode>(i.macvlan_mode);
  o.mtu = i.mtu;
  o.addresses = i.addresses;
  for (const m::Route& r : i.routes) o.routes.push_back({r.destination, r.gateway});
  return o;
}

uint8_t zones(const std::vector<std::string>& names) {
  uint8_t bits = 0;
  for (const std::string& z : names) bits |= z == "host" ? kZoneHost : z == "lan" ? kZoneLan : z == "wan" ? kZoneWan : 0;
  return bits;
}

Firewall firewall(const m::Firewall& f) {
  Firewall o;
  if (!f.enabled) return o;
  o.enabled = true;
  o.masquerade = f.masquerade;
  o.allow_out = zones(f.allow_out);
  o.lan = f.lan;
  o.wan = f.wan;
  for (const m::FirewallAllowIn& r : f.allow_in) {
    FirewallAllow a;
    a.interface = r.interface;
    a.protocol = static_cast<FwProtocol>(r.protocol);
    a.from = r.from.empty() ? kZoneAll : zones(r.from);
    for (uint32_t port : r.ports) a.ports.push_back(static_cast<uint16_t>(port));
    o.allow_in.push_back(std::move(a));
  }
  return o;
}

Process process(const m::Process& p) {
  Process o;
  o.model = static_cast<Model>(p.model);
  o.argv = p.command;
  o.env = p.env;
  o.cwd = p.cwd;
  o.uid = p.uid;
  o.gid = p.gid;
  o.groups = p.supplementary_gids;
  for (const m::Service& s : p.services)
    o.services.push_back({s.name, s.command, static_cast<Restart>(s.restart), s.restart_limit,
                          static_cast<uint32_t>(s.restart_delay_us / 1000)});
  return o;
}

Cgroups cgroups(const m::Cgroups& c) {
  Cgroups o;
  o.memory_max = c.memory_max.value_or(0);
  o.memory_swap_max = c.memory_swap_max;  // unset stays unset: 0 is "no swap"
  o.cpu_weight = c.cpu_weight.value_or(0);
  o.cpu_quota_us = c.cpu_quota_us.value_or(0);
  o.cpu_period_us = c.cpu_period_us;
  o.pids_max = c.pids_max.value_or(0);
  o.io_weight = c.io_weight.value_or(0);
  o.io_weight_best_effort = c.io_weight_best_effort;
  o.cpuset_cpus = c.cpuset_cpus;
  o.cpuset_mems = c.cpuset_mems;
  o.freezer = c.freezer;
  return o;
}

}  // namespace

uint64_t required_kernel_features(const m::Manifest& man) { return kernel_check::required_feature_mask(man); }

Result<Policy> bake(const m::Manifest& man) {
  Policy p;
  p.name = man.name;
  p.arch = m::to_string(man.arch);
  p.hostname = man.namespaces.hostname.empty() ? man.name : man.namespaces.hostname;
  p.domainname = man.namespaces.domainname;
  p.process = process(man.process);
  p.rootfs = rootfs_kind(man.rootfs.strategy);
  p.read_only_root = man.rootfs.read_only;
  if (man.rootfs.strategy == m::RootfsStrategy::kOverlay) {
    p.base = man.rootfs.base;
    p.base_requirement = {man.rootfs.base_key, man.rootfs.base_min_version, man.rootfs.base_max_version};
  }
  const m::Namespaces& n = man.namespaces;
  p.namespaces[kNsMount] = ns(n.mount);
  p.namespaces[kNsUts] = ns(n.uts);
  p.namespaces[kNsIpc] = ns(n.ipc);
  p.namespaces[kNsPid] = ns(n.pid);
  p.namespaces[kNsNet] = ns(n.net);
  p.namespaces[kNsUser] = ns(n.user);
  p.namespaces[kNsCgroup] = ns(n.cgroup);
  if (n.user.mode == m::NsMode::kNew) {
    for (const m::IdMapRange& r : man.users.uid_map) p.uid_map.push_back({r.inside, r.outside, r.count});
    for (const m::IdMapRange& r : man.users.gid_map) p.gid_map.push_back({r.inside, r.outside, r.count});
  }
  p.caps.keep = man.security.capability_mask;
  p.no_new_privs = man.security.no_new_privs;
  p.apparmor_profile = man.security.apparmor_profile;
  p.selinux_context = man.security.selinux_context;
  p.cgroups = cgroups(man.cgroups);
  p.proc = man.mounts.proc;
  p.sys = static_cast<SysMode>(man.mounts.sys);
  p.dev = static_cast<DevMode>(man.mounts.dev);
  // Char and block nodes the manifest declares: the device allow-list's
  // additions (a FIFO needs no device permission).
  for (const m::DeviceNode& d : man.rootfs.devices)
    if (d.type != m::DeviceType::kFifo)
      p.devices.push_back({d.type == m::DeviceType::kBlock ? DeviceType::kBlock : DeviceType::kChar, d.major,
                           d.minor, d.mode, d.owner.uid, d.owner.gid, d.path});
  for (const m::HotplugRule& r : man.devices.hotplug) {
    HotplugRule h;
    h.name = r.name;
    h.devtype = static_cast<HotplugDevtype>(r.devtype);
    for (const auto& [key, value] : r.properties) h.properties.push_back({key, value});
    h.parent = r.parent;
    h.access = r.read_only ? kHotplugRead : kHotplugRead | kHotplugWrite;
    h.dir = r.dir;
    h.mode = r.mode;
    h.uid = r.owner.uid;
    h.gid = r.owner.gid;
    p.hotplug.push_back(std::move(h));
  }
  p.mounts = mounts(man.mounts, man.process);
  p.net = static_cast<NetMode>(man.network.mode);
  for (const m::NetInterface& i : man.network.interfaces) p.interfaces.push_back(interface(i));
  p.firewall = firewall(man.network.firewall);
  for (const m::Rlimit& r : man.rlimits)
    p.rlimits.push_back({static_cast<uint32_t>(r.resource), r.soft, r.hard});
  auto bpf = compile_seccomp(m::effective_seccomp(man), man.arch);
  if (!bpf.ok()) return std::move(bpf.error().context("bake " + man.name));
  p.seccomp.bpf = std::move(*bpf);
  if (man.ipc.ubus) p.ipc = {man.ipc.socket, man.ipc.target};
  if (!man.health.command.empty())
    p.health = {man.health.command, static_cast<uint32_t>(man.health.timeout_us / 1000)};
  p.required_features = required_kernel_features(man);
  auto check = encode(p);
  if (!check.ok()) return std::move(check.error().context("bake " + man.name));
  return p;
}

Result<std::vector<uint8_t>> bake_binary(const m::Manifest& man) {
  auto p = bake(man);
  if (!p.ok()) return std::move(p).error();
  return encode(*p);
}

}  // namespace nestbox::policy
