#include "tests/policy/sample.h"

#include <sys/resource.h>

namespace nestbox::policy::testing {

namespace m = manifests;

m::Manifest full_manifest() {
  m::Manifest man;
  man.name = "web";
  man.arch = m::Arch::kX86_64;
  man.process.command = {"/bin/httpd", "-f", "-p", "8080"};
  man.process.env = {"HOME=/", "PATH=/bin:/sbin"};
  man.process.cwd = "/srv";
  man.process.uid = 1000;
  man.process.gid = 1000;
  man.process.supplementary_gids = {20, 30};
  man.rootfs.strategy = m::RootfsStrategy::kSquashfs;
  man.rootfs.read_only = true;
  man.namespaces.hostname = "webbox";
  man.namespaces.domainname = "lan";
  man.namespaces.net.mode = m::NsMode::kNew;
  man.namespaces.cgroup.mode = m::NsMode::kHost;
  man.namespaces.user.mode = m::NsMode::kHost;
  man.users.user_namespace = false;
  man.security.capabilities = {"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  man.security.capability_mask = (1ull << 10) | (1ull << 13);
  man.security.no_new_privs = true;
  man.security.apparmor_profile = "nestbox-web";
  man.security.selinux_context = "system_u:system_r:container_t:s0";
  man.cgroups.memory_max = 64ull << 20;
  man.cgroups.memory_swap_max = 16ull << 20;
  man.cgroups.cpu_weight = 200;
  man.cgroups.cpu_quota_us = 50000;
  man.cgroups.cpu_period_us = 100000;
  man.cgroups.pids_max = 64;
  man.cgroups.io_weight = 100;
  man.cgroups.cpuset_cpus = "0";
  man.cgroups.cpuset_mems = "0";
  man.seccomp.enabled = true;
  man.seccomp.default_action = m::SeccompAction::kAllow;
  man.seccomp.deny = {{{"mkdir", "mkdirat"}, m::SeccompAction::kErrno, 13},
                      {{"reboot", "kexec_load"}, m::SeccompAction::kKill, 0}};
  man.mounts.tmpfs = {{"/tmp", 8u << 20, 01777, true, true, true}, {"/run", 1u << 20, 0755, true, true, true}};
  man.mounts.binds = {{"/etc/resolv.conf", "/etc/resolv.conf", true, false, true, true}};
  man.mounts.storage = {{m::StorageKind::kDirectory, "/var/lib/web", "/data", 0, "ext4", true, true, true}};
  man.network.mode = m::NetworkMode::kInterfaces;
  m::NetInterface veth;
  veth.type = m::InterfaceType::kVeth;
  veth.name = "eth0";
  veth.bridge = "br-lan";
  veth.host_name = "veth-web";
  veth.mac = "02:00:00:00:00:01";
  veth.addresses = {"192.168.1.50/24", "fd00::50/64"};
  veth.routes = {{"default", "192.168.1.1"}};
  veth.mtu = 1500;
  m::NetInterface mv;
  mv.type = m::InterfaceType::kMacvlan;
  mv.name = "wan0";
  mv.parent = "eth1";
  mv.macvlan_mode = m::MacvlanMode::kBridge;
  man.network.interfaces = {veth, mv};
  man.rlimits = {{"nofile", RLIMIT_NOFILE, 1024, 4096}, {"nproc", RLIMIT_NPROC, 64, 64}};
  return man;
}

Policy full_policy() {
  Policy p;
  p.name = "nas";
  p.arch = "mipsel";
  p.hostname = "nas";
  p.domainname = "home.lan";
  p.process.model = Model::kSystem;
  p.process.argv = {"/sbin/init", "--quiet"};
  p.process.env = {"PATH=/bin", "TERM=linux"};
  p.process.cwd = "/root";
  p.process.uid = 0;
  p.process.gid = 0;
  p.process.groups = {1, 2, 3};
  p.process.services = {{"smbd", {"/usr/sbin/smbd", "-F"}}, {"ntpd", {"/usr/sbin/ntpd", "-n"}}};
  p.rootfs = RootfsKind::kOverlay;
  p.read_only_root = false;
  p.base = "base-2024";
  p.base_sha256 = std::string(64, 'a');
  p.namespaces[kNsIpc] = {NsMode::kJoin, "router"};
  p.namespaces[kNsCgroup] = {NsMode::kHost, ""};
  p.uid_map = {{0, 100000, 65536}};
  p.gid_map = {{0, 100000, 65536}, {65536, 5000, 1}};
  p.caps.keep = (1ull << 0) | (1ull << 12) | (1ull << 40);
  p.no_new_privs = false;
  p.apparmor_profile = "nas";
  p.selinux_context = "u:r:nas:s0";
  p.cgroups.memory_max = 256ull << 20;
  p.cgroups.memory_swap_max = 64ull << 20;
  p.cgroups.cpu_weight = 500;
  p.cgroups.cpu_quota_us = 20000;
  p.cgroups.cpu_period_us = 100000;
  p.cgroups.pids_max = 128;
  p.cgroups.io_weight = 300;
  p.cgroups.io_weight_best_effort = true;
  p.cgroups.cpuset_cpus = "0-1";
  p.cgroups.cpuset_mems = "0";
  p.cgroups.freezer = false;
  p.proc = true;
  p.sys = SysMode::kReadWrite;
  p.dev = DevMode::kNone;
  p.mounts = {
      {MountKind::kTmpfs, "", "/tmp", "", 16u << 20, 01777, kMountNoexec | kMountNosuid | kMountNodev},
      {MountKind::kBind, "/etc/TZ", "/etc/TZ", "", 0, 0, kMountReadOnly},
      {MountKind::kStorageImage, "/overlay/nas.img", "/srv", "ext4", 64u << 20, 0, kMountNodev},
      {MountKind::kStoragePartition, "nasdata", "/mnt/data", "ubifs", 0, 0, kMountNosuid},
      {MountKind::kStorageOverlay, "/overlay/nas-upper", "/", "", 0, 0, 0},
  };
  p.net = NetMode::kInterfaces;
  Interface vlan;
  vlan.type = IfType::kVlan;
  vlan.name = "lan";
  vlan.parent = "eth0";
  vlan.vlan_id = 42;
  vlan.addresses = {"10.0.42.2/24"};
  vlan.routes = {{"10.1.0.0/16", "10.0.42.1"}, {"default", "10.0.42.1"}};
  Interface phys;
  phys.type = IfType::kPhys;
  phys.name = "usb0";
  phys.parent = "usb0";
  phys.mtu = 9000;
  p.interfaces = {vlan, phys};
  p.rlimits = {{7, 256, 512}, {4, 0, 0}};
  p.ipc = {"/var/run/ubus/ubus.sock", "/run/ubus.sock"};
  p.required_features = 0x5;
  return p;
}

m::Manifest hostile_manifest(const std::string& ubus_socket) {
  m::Manifest man = full_manifest();
  man.name = "hostile";
  man.process.command = {"/bin/busybox", "sh", "/hostile.sh"};
  man.process.env = {"PATH=/bin"};
  man.process.cwd = "/";
  man.process.uid = 0;
  man.process.gid = 0;
  man.process.supplementary_gids.clear();
  man.security.capabilities.clear();
  man.security.capability_mask = 0;
  man.security.apparmor_profile.clear();
  man.security.selinux_context.clear();
  man.seccomp.enabled = false;
  man.mounts.binds.clear();
  man.mounts.storage.clear();
  man.cgroups.io_weight.reset();
  man.network.mode = m::NetworkMode::kEmpty;
  man.network.interfaces.clear();
  man.ipc.ubus = true;
  man.ipc.socket = ubus_socket;
  man.ipc.target = "/ubus.sock";
  return man;
}

}  // namespace nestbox::policy::testing
