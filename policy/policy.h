// The baked runtime policy as nestbox-launch sees it: everything needed to
// start one container, decided at build time, nothing looked up on the device.
// Target-safe (libc only). Encoded/decoded by policy/format.h (binary, versioned,
// docs/policy-format.md); produced on the host from a Manifest by policy/bake.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nestbox::policy {

enum class Model : uint8_t { kProcess = 0, kSystem = 1 };
enum class RootfsKind : uint8_t { kSquashfs = 0, kOverlay = 1, kTree = 2, kHostHardlink = 3 };
enum class NsMode : uint8_t { kNew = 0, kHost = 1, kJoin = 2 };

// Index into Policy::namespaces.
enum NsIndex : uint8_t { kNsMount, kNsUts, kNsIpc, kNsPid, kNsNet, kNsUser, kNsCgroup, kNsCount };

struct Namespace {
  NsMode mode = NsMode::kNew;
  std::string join;  // container name (kJoin)
};

struct IdMap {
  uint32_t inside = 0, outside = 0, count = 0;
};

// When nestbox's init restarts a service that ended (model system, no init of
// the container's own).
enum class Restart : uint8_t { kOnFailure = 0, kAlways = 1, kNever = 2 };

struct Service {
  std::string name;
  std::vector<std::string> argv;
  Restart restart = Restart::kOnFailure;
  // Restarts in a row before the service counts as failed (the container then
  // stops, naming it); a run of kServiceStableMs or more starts the count again.
  uint32_t restart_limit = 5;
  // Back-off before the first restart in a row; doubled for each further one,
  // capped at kServiceMaxDelayMs.
  uint32_t restart_delay_ms = 100;
};
inline constexpr uint32_t kServiceStableMs = 10000;
inline constexpr uint32_t kServiceMaxDelayMs = 30000;

struct Process {
  Model model = Model::kProcess;
  // Empty only with model system and services: nestbox's init is pid 1 and
  // supervises the services (the container has no init of its own).
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd = "/";
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> groups;
  std::vector<Service> services;
};

struct Capabilities {
  // One mask for bounding/permitted/effective/inheritable/ambient: the keep-list.
  uint64_t keep = 0;
};

struct Cgroups {
  // 0 / empty = not set. UINT64_MAX never used as "unset".
  uint64_t memory_max = 0;
  // Swap on top of memory_max. Unset and 0 differ: 0 is "no swap", a limit
  // the launcher must apply; unset is the default (no swap where the kernel
  // accounts swap). Needs memory_max when set.
  std::optional<uint64_t> memory_swap_max;
  uint32_t cpu_weight = 0;
  uint64_t cpu_quota_us = 0;
  uint64_t cpu_period_us = 100000;
  uint32_t pids_max = 0;
  uint32_t io_weight = 0;
  bool io_weight_best_effort = false;  // no weight-honouring scheduler: start without it
  std::string cpuset_cpus, cpuset_mems;
  bool freezer = true;
};

enum class MountKind : uint8_t {
  kTmpfs = 0,
  kBind = 1,
  kStorageDir = 2,
  kStorageImage = 3,
  kStoragePartition = 4,
  kStorageOverlay = 5,
};

// MS_* style flags, stored explicitly so the target never guesses.
enum MountFlags : uint32_t {
  kMountReadOnly = 1u << 0,
  kMountNoexec = 1u << 1,
  kMountNosuid = 1u << 2,
  kMountNodev = 1u << 3,
};

struct Mount {
  MountKind kind = MountKind::kTmpfs;
  std::string source;   // host path / image / partition name; empty for tmpfs
  std::string target;   // absolute path inside the container
  std::string fstype;   // image/partition filesystem
  uint64_t size = 0;    // tmpfs size / image size
  uint32_t mode = 0;    // tmpfs root mode; storage: its root's mode (0 = as it is)
  uint32_t flags = 0;   // MountFlags
  // Storage: the owner of its root, ids inside the container (mapped through
  // the user namespace by the launcher); set at every start.
  bool owner_set = false;
  uint32_t uid = 0, gid = 0;
};

// A device node the manifest declares ([[rootfs.device]], char or block).
enum class DeviceType : uint8_t { kChar = 0, kBlock = 1 };
struct Device {
  DeviceType type = DeviceType::kChar;
  uint32_t major = 0, minor = 0;
  uint32_t mode = 0666, uid = 0, gid = 0;  // owner: ids inside the container
  std::string path;                        // absolute, where the image has it
};

// A rule naming hot-plugged block devices that belong to the container
// (manifest [[devices.hotplug]]): while it runs, the launcher gives it each
// matching device (a node in `dir`, access in the device cgroup) and takes it
// back when the device goes. Matched on what the kernel says, never udev.
enum class HotplugDevtype : uint8_t { kAny = 0, kDisk = 1, kPartition = 2 };
enum HotplugAccess : uint8_t { kHotplugRead = 1, kHotplugWrite = 2 };
struct HotplugProperty {
  std::string key;    // kernel uevent key: [A-Z0-9_]+
  std::string value;  // fnmatch(3) pattern over the value
};
struct HotplugRule {
  std::string name;    // fnmatch(3) pattern over the kernel name ("sd*", "loop24[0-9]")
  HotplugDevtype devtype = HotplugDevtype::kAny;
  std::vector<HotplugProperty> properties;  // every one must match
  // A subsystem ("usb") one of the device's sysfs ancestors belongs to; empty: any.
  std::string parent;
  uint8_t access = kHotplugRead | kHotplugWrite;  // HotplugAccess bits; never mknod
  std::string dir = "/dev";                        // the node is <dir>/<kernel name>
  uint32_t mode = 0600, uid = 0, gid = 0;
};

enum class SysMode : uint8_t { kReadOnly = 0, kReadWrite = 1, kNone = 2 };
enum class DevMode : uint8_t { kMinimal = 0, kNone = 1 };

enum class NetMode : uint8_t { kNone = 0, kEmpty = 1, kInterfaces = 2 };
enum class IfType : uint8_t { kPhys = 0, kVlan = 1, kVeth = 2, kMacvlan = 3 };
enum class MacvlanMode : uint8_t { kVepa = 0, kPrivate = 1, kBridge = 2, kPassthru = 3 };

struct Route {
  std::string destination;  // "default" or CIDR
  std::string gateway;
};

struct Interface {
  IfType type = IfType::kVeth;
  std::string name, parent, bridge, host_name, mac;
  uint32_t vlan_id = 0;
  MacvlanMode macvlan_mode = MacvlanMode::kPrivate;
  uint32_t mtu = 0;
  std::vector<std::string> addresses;  // CIDR
  std::vector<Route> routes;
};

// Firewall and NAT of a container's veth interfaces (manifest
// [network.firewall], docs/network.md "Firewall"), installed by the launcher
// in the host's namespace as one nftables table of its own.
enum class FwProtocol : uint8_t { kTcp = 0, kUdp = 1, kIcmp = 2 };
// Zones, as bits: the host itself, the routes out of its `lan` / `wan` devices.
enum FwZone : uint8_t { kZoneHost = 1u << 0, kZoneLan = 1u << 1, kZoneWan = 1u << 2 };
inline constexpr uint8_t kZoneAll = kZoneHost | kZoneLan | kZoneWan;

struct FirewallAllow {
  std::string interface;  // a container interface (Interface::name), veth
  FwProtocol protocol = FwProtocol::kTcp;
  uint8_t from = kZoneAll;     // FwZone bits the connection may come from
  std::vector<uint16_t> ports;  // tcp/udp: 1..65535, at least one; icmp: none
};

struct Firewall {
  bool enabled = false;         // off: no table, every other field empty
  bool masquerade = false;      // NAT the container's subnets out of `wan`
  uint8_t allow_out = 0;        // FwZone bits the container may open connections to
  std::vector<std::string> lan, wan;  // host device names of each zone
  std::vector<FirewallAllow> allow_in;
};

// A macvlan/vlan/phys interface sits on its parent's segment: its traffic
// never crosses the host's IP stack, so its firewall lives in the container's
// own network namespace, and its zone is the one whose devices list the
// parent (kZoneLan/kZoneWan; 0: in no zone).
inline bool filtered_in_container(const Interface& itf) { return itf.type != IfType::kVeth; }
inline uint8_t segment_zone(const Firewall& fw, const Interface& itf) {
  for (const std::string& d : fw.lan)
    if (d == itf.parent) return kZoneLan;
  for (const std::string& d : fw.wan)
    if (d == itf.parent) return kZoneWan;
  return 0;
}

struct Rlimit {
  uint32_t resource = 0;  // RLIMIT_* number
  uint64_t soft = 0, hard = 0;
};

struct Seccomp {
  // Classic BPF (struct sock_filter[]), compiled at build time for `arch`.
  // Empty: no filter.
  std::vector<uint8_t> bpf;  // 8 bytes per instruction, target byte order
};

// The router's management bus (ubus) bound into the container: the host's
// socket at `socket`, bound onto `target` inside the root. Both empty: none.
// The grants are not here: compose writes them as ubusd's ACL file
// (policy/ubus_acl.h), which ubusd itself enforces.
struct Ipc {
  std::string ubus_socket;
  std::string ubus_target;
};

// What an overlay layer needs of its base instead of one pinned digest.
struct BaseRequirement {
  std::string key_id;         // SHA-256 of the signing key's DER SPKI, 64 lowercase hex; empty: none
  uint64_t min_version = 0;   // the base image's signed `version`
  uint64_t max_version = 0;   // 0: no upper bound
  bool set() const { return !key_id.empty(); }
};

// [health] (manifests/model.h Health): the check a trial install must pass.
struct Health {
  std::vector<std::string> argv;  // empty: none
  uint32_t timeout_ms = 0;
};

struct Policy {
  std::string name;
  std::string arch;
  std::string hostname, domainname;
  Process process;
  RootfsKind rootfs = RootfsKind::kSquashfs;
  bool read_only_root = true;
  std::string base;                 // overlay: base image name
  // overlay: SHA-256 (64 lowercase hex) of the base image's payload region
  // (its squashfs zero-padded to 4096), as in the base's signed metadata. The
  // layer's signature covers the policy, so this pins the exact base: the
  // launcher refuses any other.
  std::string base_sha256;
  // overlay (wire version 4): instead of a pin, the bases this layer runs
  // over: any base image named `base`, signed by the key `base_key_id`, whose
  // signed metadata version lies in [base_min_version, base_max_version]
  // (max 0: no upper bound). The launcher picks the newest verified store
  // slot that satisfies it (launcher/base_requirement.h).
  BaseRequirement base_requirement;
  Namespace namespaces[kNsCount];
  std::vector<IdMap> uid_map, gid_map;
  Capabilities caps;
  bool no_new_privs = true;
  std::string apparmor_profile, selinux_context;
  Cgroups cgroups;
  bool proc = true;
  SysMode sys = SysMode::kReadOnly;
  DevMode dev = DevMode::kMinimal;
  // Declared device nodes: the only ones besides the minimal /dev the
  // container may open; without any, every image mount is nodev.
  std::vector<Device> devices;
  // Hot-plugged block devices given to the container while it runs.
  std::vector<HotplugRule> hotplug;
  std::vector<Mount> mounts;
  NetMode net = NetMode::kEmpty;
  std::vector<Interface> interfaces;
  std::vector<Rlimit> rlimits;
  Seccomp seccomp;
  Ipc ipc;
  Health health;
  Firewall firewall;
  // Kernel facilities this policy needs, as kernel-check feature ids
  // (bit n = feature n of kernel-check's table), so the device can refuse
  // before mounting anything.
  uint64_t required_features = 0;
};

}  // namespace nestbox::policy
