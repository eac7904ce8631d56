// Hand-built manifests for the kernel-check tests: the talk's two case studies.
#pragma once

#include "manifests/model.h"

namespace nestbox::kernel_check::testing {

// Case 1: the NAS "virtual machine": squashfs (xz) rootfs, two veths in host
// bridges, tmpfs, a flash partition, memory/cpu/pids limits, no user ns.
inline manifests::Manifest nas_manifest() {
  using namespace manifests;
  Manifest m;
  m.name = "nas";
  m.file = "examples/nas.toml";
  m.process.model = Model::kSystem;
  m.rootfs.strategy = RootfsStrategy::kSquashfs;
  m.rootfs.compressor = Compressor::kXz;
  m.namespaces.user.mode = NsMode::kHost;
  m.namespaces.cgroup.mode = NsMode::kNew;
  m.cgroups.memory_max = 256u << 20;
  m.cgroups.cpu_weight = 50;
  m.cgroups.pids_max = 256;
  m.mounts.tmpfs.push_back({"/tmp", 16u << 20});
  StorageMount data;
  data.kind = StorageKind::kPartition;
  data.target = "/data";
  data.source = "nas_data";
  data.fstype = "ubifs";
  m.mounts.storage.push_back(data);
  m.network.mode = NetworkMode::kInterfaces;
  NetInterface host_if;
  host_if.type = InterfaceType::kVeth;
  host_if.bridge = "br-nas";
  host_if.addresses = {"10.0.0.2/24"};
  NetInterface lan_if = host_if;
  lan_if.name = "lan";
  lan_if.bridge = "br-lan";
  lan_if.addresses = {"192.168.1.5/24", "fd00::5/64"};
  m.network.interfaces = {host_if, lan_if};
  return m;
}

// Case 2: an untrusted store app: overlay over a shared base (zstd),
// unprivileged (user ns), seccomp with kill-process default and a log rule,
// macvlan, io weight, capabilities kept by a non-root process.
inline manifests::Manifest app_manifest() {
  using namespace manifests;
  Manifest m;
  m.name = "app";
  m.file = "examples/app.toml";
  m.rootfs.strategy = RootfsStrategy::kOverlay;
  m.rootfs.compressor = Compressor::kZstd;
  m.namespaces.user.mode = NsMode::kNew;
  m.users.user_namespace = true;
  m.users.uid_map = {{0, 100000, 65536}};
  m.process.uid = 1000;
  m.security.capabilities = {"CAP_NET_BIND_SERVICE"};
  m.seccomp.enabled = true;
  m.seccomp.default_action = SeccompAction::kKill;
  SeccompRule rule;
  rule.syscalls = {"ptrace"};
  rule.action = SeccompAction::kLog;
  m.seccomp.deny = {rule};
  m.cgroups.memory_max = 64u << 20;
  m.cgroups.memory_swap_max = 0;
  m.cgroups.io_weight = 100;
  m.cgroups.pids_max = 64;
  m.network.mode = NetworkMode::kInterfaces;
  NetInterface mv;
  mv.type = InterfaceType::kMacvlan;
  mv.parent = "br-lan";
  mv.macvlan_mode = MacvlanMode::kPrivate;
  m.network.interfaces = {mv};
  return m;
}

}  // namespace nestbox::kernel_check::testing
