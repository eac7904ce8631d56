#include "kernel-check/requirements.h"

#include <string>

#include "manifests/effective_seccomp.h"

namespace nestbox::kernel_check {

namespace {

using manifests::Manifest;

class Collector {
 public:
  void need(Feature f, const std::string& key) {
    for (const Requirement& r : out_)
      if (r.feature == f && r.key == key) return;
    out_.push_back({f, key});
  }
  std::vector<Requirement> take() { return std::move(out_); }

 private:
  std::vector<Requirement> out_;
};

std::string index_key(const std::string& list, size_t i, const std::string& field = "") {
  return list + "[" + std::to_string(i) + "]" + (field.empty() ? "" : "." + field);
}

void namespaces(const Manifest& m, Collector* c) {
  const struct {
    const manifests::Namespace* ns;
    const char* key;
    Feature feature;
  } table[] = {
      {&m.namespaces.mount, "namespaces.mount", Feature::kMountNs},
      {&m.namespaces.uts, "namespaces.uts", Feature::kUtsNs},
      {&m.namespaces.ipc, "namespaces.ipc", Feature::kIpcNs},
      {&m.namespaces.pid, "namespaces.pid", Feature::kPidNs},
      {&m.namespaces.net, "namespaces.net", Feature::kNetNs},
      {&m.namespaces.user, "namespaces.user", Feature::kUserNs},
      {&m.namespaces.cgroup, "namespaces.cgroup", Feature::kCgroupNs},
  };
  for (const auto& row : table)  // new or joined: either way the kernel must have it
    if (row.ns->mode != manifests::NsMode::kHost) c->need(row.feature, row.key);
  if (m.users.user_namespace) c->need(Feature::kUserNs, "users.user_namespace");
}

void security(const Manifest& m, Collector* c) {
  if (m.security.no_new_privs) c->need(Feature::kNoNewPrivs, "security.no_new_privs");
  // A non-root process keeps capabilities across exec only as ambient ones.
  if (!m.security.capabilities.empty() && m.process.uid != 0)
    c->need(Feature::kAmbientCaps, "security.capabilities");
  if (!m.security.apparmor_profile.empty()) c->need(Feature::kAppArmor, "security.apparmor_profile");
  if (!m.security.selinux_context.empty()) c->need(Feature::kSelinux, "security.selinux_context");
}

void seccomp_action(manifests::SeccompAction a, const std::string& key, Collector* c) {
  if (a == manifests::SeccompAction::kKill) c->need(Feature::kSeccompKillProcess, key);
  if (a == manifests::SeccompAction::kLog) c->need(Feature::kSeccompLog, key);
}

void seccomp(const Manifest& m, Collector* c) {
  if (!m.seccomp.enabled) {
    // The host-keyring guard is a filter of its own (manifests/effective_seccomp.h).
    if (manifests::effective_seccomp(m).enabled) c->need(Feature::kSeccompFilter, "namespaces.user (keyring guard)");
    return;
  }
  c->need(Feature::kSeccompFilter, "seccomp.enabled");
  seccomp_action(m.seccomp.default_action, "seccomp.default_action", c);
  for (size_t i = 0; i < m.seccomp.deny.size(); ++i)
    seccomp_action(m.seccomp.deny[i].action, index_key("seccomp.deny", i, "action"), c);
}

void cgroups(const Manifest& m, Collector* c) {
  const manifests::Cgroups& g = m.cgroups;
  auto controller = [&](bool used, Feature f, const char* key) {
    if (!used) return;
    c->need(Feature::kCgroupV2, key);  // nestbox-launch drives the unified hierarchy
    c->need(f, key);
  };
  controller(g.memory_max.has_value(), Feature::kMemory, "cgroups.memory_max");
  if (g.memory_swap_max) controller(true, Feature::kMemory, "cgroups.memory_swap_max");
  controller(g.memory_swap_max.has_value(), Feature::kMemorySwap, "cgroups.memory_swap_max");
  controller(g.cpu_weight.has_value(), Feature::kCpu, "cgroups.cpu_weight");
  controller(g.cpu_quota_us.has_value(), Feature::kCpuQuota, "cgroups.cpu_quota_us");
  controller(g.pids_max.has_value(), Feature::kPids, "cgroups.pids_max");
  // Best effort: the container starts without the weight where it cannot apply.
  controller(g.io_weight.has_value() && !g.io_weight_best_effort, Feature::kIoWeight, "cgroups.io_weight");
  controller(!g.cpuset_cpus.empty(), Feature::kCpuset, "cgroups.cpuset_cpus");
  controller(!g.cpuset_mems.empty(), Feature::kCpuset, "cgroups.cpuset_mems");
  controller(g.freezer, Feature::kFreeze, "cgroups.freezer");
}

Feature compressor_feature(manifests::Compressor comp) {
  switch (comp) {
    case manifests::Compressor::kGzip: return Feature::kSquashfsGzip;
    case manifests::Compressor::kXz: return Feature::kSquashfsXz;
    case manifests::Compressor::kZstd: return Feature::kSquashfsZstd;
    case manifests::Compressor::kLz4: return Feature::kSquashfsLz4;
    case manifests::Compressor::kLzo: return Feature::kSquashfsLzo;
  }
  return Feature::kSquashfsXz;
}

void rootfs(const Manifest& m, Collector* c) {
  using manifests::RootfsStrategy;
  RootfsStrategy s = m.rootfs.strategy;
  if (s != RootfsStrategy::kSquashfs && s != RootfsStrategy::kOverlay) return;  // bind-mounted trees
  c->need(Feature::kLoop, "rootfs.strategy");
  c->need(Feature::kSquashfs, "rootfs.strategy");
  if (s == RootfsStrategy::kOverlay) c->need(Feature::kOverlayFs, "rootfs.strategy");
  c->need(compressor_feature(m.rootfs.compressor), "rootfs.compressor");
}

// The Feature providing a filesystem type named in a storage mount; false for
// types kernel-check does not track.
bool fstype_feature(const std::string& fstype, Feature* out) {
  const std::pair<const char*, Feature> table[] = {
      {"ext4", Feature::kExt4},   {"ext3", Feature::kExt4},     {"ext2", Feature::kExt4},
      {"f2fs", Feature::kF2fs},   {"ubifs", Feature::kUbifs},   {"jffs2", Feature::kJffs2},
      {"vfat", Feature::kVfat},   {"squashfs", Feature::kSquashfs},
  };
  for (const auto& [name, f] : table)
    if (fstype == name) {
      *out = f;
      return true;
    }
  return false;
}

void mounts(const Manifest& m, Collector* c) {
  using manifests::StorageKind;
  if (m.mounts.proc) c->need(Feature::kProcFs, "mounts.proc");
  if (m.mounts.sys != manifests::SysMode::kNone) c->need(Feature::kSysfs, "mounts.sys");
  if (m.mounts.dev == manifests::DevMode::kMinimal) {
    c->need(Feature::kTmpfs, "mounts.dev");
    c->need(Feature::kDevpts, "mounts.dev");
  }
  for (size_t i = 0; i < m.mounts.tmpfs.size(); ++i)
    c->need(Feature::kTmpfs, index_key("mounts.tmpfs", i));
  for (size_t i = 0; i < m.mounts.storage.size(); ++i) {
    const manifests::StorageMount& s = m.mounts.storage[i];
    if (s.kind == StorageKind::kImage) c->need(Feature::kLoop, index_key("mounts.storage", i, "kind"));
    if (s.kind == StorageKind::kOverlay)
      c->need(Feature::kOverlayFs, index_key("mounts.storage", i, "kind"));
    Feature f;
    if ((s.kind == StorageKind::kImage || s.kind == StorageKind::kPartition) &&
        fstype_feature(s.fstype, &f))
      c->need(f, index_key("mounts.storage", i, "fstype"));
  }
}

void network(const Manifest& m, Collector* c) {
  if (m.network.mode != manifests::NetworkMode::kInterfaces) return;
  for (size_t i = 0; i < m.network.interfaces.size(); ++i) {
    const manifests::NetInterface& n = m.network.interfaces[i];
    std::string key = index_key("network.interfaces", i);
    switch (n.type) {
      case manifests::InterfaceType::kVeth: c->need(Feature::kVeth, key + ".type"); break;
      case manifests::InterfaceType::kMacvlan: c->need(Feature::kMacvlan, key + ".type"); break;
      case manifests::InterfaceType::kVlan: c->need(Feature::kVlan, key + ".type"); break;
      case manifests::InterfaceType::kPhys: break;
    }
    if (n.type == manifests::InterfaceType::kVeth && !n.bridge.empty())
      c->need(Feature::kBridge, key + ".bridge");
    for (size_t j = 0; j < n.addresses.size(); ++j)
      if (n.addresses[j].find(':') != std::string::npos)
        c->need(Feature::kIpv6, index_key(key + ".addresses", j));
    for (size_t j = 0; j < n.routes.size(); ++j)
      if (n.routes[j].destination.find(':') != std::string::npos ||
          n.routes[j].gateway.find(':') != std::string::npos)
        c->need(Feature::kIpv6, index_key(key + ".routes", j));
  }
}

}  // namespace

std::vector<Requirement> requirements_of(const Manifest& m) {
  Collector c;
  namespaces(m, &c);
  security(m, &c);
  seccomp(m, &c);
  cgroups(m, &c);
  rootfs(m, &c);
  mounts(m, &c);
  network(m, &c);
  return c.take();
}

uint64_t required_feature_mask(const Manifest& m) {
  uint64_t mask = 0;
  for (const Requirement& r : requirements_of(m)) mask |= feature_bit(r.feature);
  return mask;
}

ContainerNeeds needs_of(const Manifest& m) {
  ContainerNeeds n;
  n.name = m.name;
  n.file = m.file;
  n.requirements = requirements_of(m);
  if (m.kernel_min) n.kernel_min = Version{m.kernel_min->major, m.kernel_min->minor, m.kernel_min->patch};
  return n;
}

}  // namespace nestbox::kernel_check
