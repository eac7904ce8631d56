// The container manifest, schema v1, as plain C++ data. One Manifest per
// container. Produced by manifests::load() (TOML, validated) and consumed by
// the composer, the policy baker and kernel-check. Every field has the default
// documented in docs/manifest.md; the loader fills defaults, so consumers never
// see "unset" except where std::optional says so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <span>
#include <vector>

namespace nestbox::manifests {

// Where a value came from in the manifest, for messages of later stages
// ("nas.toml:12:9: rootfs.binaries[1]: ...").
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
};

// Name of the base shared by overlay containers whose manifest names none.
inline constexpr const char* kAutomaticBase = "auto-base";

// Ids the kernel reads as "leave unchanged": (uid_t)-1, and -1 of the 16-bit
// id syscalls. Never a real owner or identity.
inline constexpr uint32_t kIdUnchanged = 4294967295u;
inline constexpr uint32_t kIdUnchanged16 = 65535u;

enum class Arch { kX86_64, kAarch64, kArm, kMips, kMipsel, kPowerpc, kRiscv64, kI386 };

enum class Model {
  kProcess,  // one program, nestbox's minimal init reaps and forwards signals
  kSystem,   // an init plus a list of services started at container init
};

// When nestbox's init restarts a service that ended.
enum class Restart { kOnFailure, kAlways, kNever };

struct Service {
  std::string name;
  std::vector<std::string> command;  // argv, command[0] absolute inside the rootfs
  Restart restart = Restart::kOnFailure;
  uint32_t restart_limit = 5;        // restarts in a row before the service has failed
  uint64_t restart_delay_us = 100000;  // first back-off, doubled per restart in a row
};

// [health]: judges a trial install (`nestbox-launch install --trial`). Once
// the trial's time is up with the container still running, `boot` runs
// `command` inside it (as `exec` does: every namespace, the cgroup, the same
// user, capabilities and seccomp); exit 0 within `timeout` commits the new
// version, anything else rolls it back. Empty: staying up is enough.
struct Health {
  std::vector<std::string> command;  // argv, command[0] absolute inside the rootfs
  uint64_t timeout_us = 10000000;    // 10 s
};

struct Process {
  Model model = Model::kProcess;
  // argv of the main process (model=process) or init (system); empty with
  // model=system and services: nestbox's init supervises them as pid 1.
  std::vector<std::string> command;
  std::vector<std::string> env;       // "KEY=value", sorted by key
  std::string cwd = "/";
  uint32_t uid = 0;                   // inside the container
  uint32_t gid = 0;
  std::vector<uint32_t> supplementary_gids;
  std::vector<Service> services;      // model=system only
};

enum class RootfsStrategy {
  kHostHardlink,  // hardlinks into the host staging rootfs
  kTree,          // standalone hardlinked tree
  kSquashfs,      // standalone squashfs image
  kOverlay,       // per-container squashfs layer over a shared base image
};

enum class SourceKind { kDirectory, kTar, kIpk, kDeb };

struct RootfsSource {
  SourceKind kind = SourceKind::kDirectory;
  std::string path;   // resolved relative to the manifest's directory
  // Untrusted sources may not carry setuid files (refused when selected).
  // Default: true for directories (the build's own staging), false for
  // archives (tar, ipk, deb: what third parties hand over).
  bool trusted = true;
  SourcePos pos;
};

struct Owner {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct ExtraDir {
  std::string path;
  uint32_t mode = 0755;
  Owner owner;
};

struct ExtraFile {
  std::string path;
  std::string source;   // host file (relative to the manifest) or empty when `content` is used
  std::string content;  // literal content
  uint32_t mode = 0644;
  Owner owner;
};

struct ExtraSymlink {
  std::string path;
  std::string target;
};

enum class DeviceType { kChar, kBlock, kFifo };

struct DeviceNode {
  std::string path;
  DeviceType type = DeviceType::kChar;
  uint32_t major = 0;
  uint32_t minor = 0;
  uint32_t mode = 0666;
  Owner owner;
};

enum class Compressor { kGzip, kXz, kZstd, kLz4, kLzo };

struct Rootfs {
  RootfsStrategy strategy = RootfsStrategy::kSquashfs;
  std::string base;                     // overlay: name of the shared base ("" = automatic)
  SourcePos base_pos;                   // where `base` was written (for set-wide messages)
  // overlay: the base this layer runs over, instead of the digest compose
  // pins: any base `base` signed by key `base_key` (key id, 64 lowercase hex)
  // whose signed version lies in [base_min_version, base_max_version] (max 0:
  // no upper bound). Empty base_key: compose pins the base it writes.
  std::string base_key;
  uint64_t base_min_version = 0, base_max_version = 0;
  SourcePos compressor_pos;             // where `compressor` was written (the writer's check)
  std::vector<RootfsSource> sources;
  std::vector<std::string> include;     // globs over absolute paths inside the rootfs
  std::vector<std::string> exclude;
  std::vector<std::string> binaries;    // ELF closure roots
  std::vector<ExtraDir> dirs;
  std::vector<ExtraFile> files;
  std::vector<ExtraSymlink> symlinks;
  std::vector<DeviceNode> devices;
  bool read_only = true;
  Compressor compressor = Compressor::kXz;
  uint32_t block_size = 128 * 1024;     // power of two, 4K..1M
  bool allow_setuid = false;            // keep setuid/setgid bits from sources
  bool allow_file_caps = false;         // keep security.capability xattrs from sources
  uint64_t max_file_size = 0;           // 0 = no limit
  SourcePos pos;
};

struct IdMapRange {
  uint32_t inside = 0;
  uint32_t outside = 0;
  uint32_t count = 0;
};

struct Users {
  bool user_namespace = false;
  std::vector<IdMapRange> uid_map;
  std::vector<IdMapRange> gid_map;
  bool shift_ownership = false;  // store files at their mapped (host) owner at build time
};

struct Security {
  std::vector<std::string> capabilities;  // "CAP_NET_BIND_SERVICE", validated, sorted
  uint64_t capability_mask = 0;           // bit n = capability number n
  bool no_new_privs = true;
  std::string apparmor_profile;
  std::string selinux_context;
};

enum class NsMode { kNew, kHost, kJoin };

struct Namespace {
  NsMode mode = NsMode::kNew;
  std::string join;  // container name when mode == kJoin
};

struct Namespaces {
  Namespace mount, uts, ipc, pid, net, user, cgroup;
  std::string hostname;    // empty: the container name
  std::string domainname;
};

struct Cgroups {
  std::optional<uint64_t> memory_max;       // bytes
  std::optional<uint64_t> memory_swap_max;  // bytes of swap on top of memory_max
  std::optional<uint32_t> cpu_weight;       // 1..10000 (cgroup v2 scale)
  std::optional<uint64_t> cpu_quota_us;     // with cpu_period_us
  uint64_t cpu_period_us = 100000;
  std::optional<uint32_t> pids_max;
  std::optional<uint32_t> io_weight;        // 1..10000
  // Where no scheduler honours weights (see docs/manifest.md): false refuses
  // the start, true starts without the weight and says so.
  bool io_weight_best_effort = false;
  std::string cpuset_cpus;                  // "0-1,3"
  std::string cpuset_mems;
  bool freezer = true;                      // may the container be frozen
};

enum class SeccompAction { kAllow, kErrno, kKill, kLog, kTrap };

// A condition on one argument of a call: (argument & mask) == value. Only
// the built-in guards make rules with conditions (effective_seccomp.h); a
// manifest's own rules have none.
struct SeccompArg {
  unsigned index = 0;
  uint64_t mask = 0;
  uint64_t value = 0;
};

struct SeccompRule {
  std::vector<std::string> syscalls;
  SeccompAction action = SeccompAction::kErrno;
  int errno_value = 1;  // EPERM
  std::vector<SeccompArg> args;  // all must hold; empty: every call
};

struct Seccomp {
  bool enabled = false;
  SeccompAction default_action = SeccompAction::kErrno;
  int default_errno = 38;  // ENOSYS
  std::vector<std::string> allow;    // syscalls allowed (when the default is not allow)
  std::vector<SeccompRule> deny;     // syscalls denied with their own action
};

struct TmpfsMount {
  std::string target;
  uint64_t size = 0;  // 0 = kernel default
  uint32_t mode = 01777;
  bool noexec = true, nosuid = true, nodev = true;
};

struct BindMount {
  std::string source;  // host path
  std::string target;
  bool read_only = true;
  bool noexec = false, nosuid = true, nodev = true;
};

enum class StorageKind {
  kDirectory,  // bind a host directory read-write
  kImage,      // loop-mount a filesystem image file of `size` (created if absent)
  kPartition,  // mount a named flash partition (by name, e.g. an MTD/UBI/GPT label)
  kOverlay,    // persistent overlay upper dir over the read-only rootfs
};

struct StorageMount {
  StorageKind kind = StorageKind::kDirectory;
  std::string target;        // inside the container ("/" allowed for kOverlay)
  std::string source;        // host dir, image file, or partition name
  uint64_t size = 0;         // kImage: size of the image to create
  std::string fstype = "ext4";  // kImage / kPartition
  bool noexec = true, nosuid = true, nodev = true;
  // The owner of the storage's root, set at every start: ids inside the
  // container (`uid`/`gid`), or the container's process user (`owner =
  // "process"`); mapped through the user namespace by the launcher.
  enum class OwnerKind { kUnset, kIds, kProcess };
  OwnerKind owner_kind = OwnerKind::kUnset;
  Owner owner;
  uint32_t mode = 0;  // the storage root's permission bits; 0: as it is
};

enum class SysMode { kReadOnly, kReadWrite, kNone };
enum class DevMode { kMinimal, kNone };

struct Mounts {
  bool proc = true;
  SysMode sys = SysMode::kReadOnly;
  DevMode dev = DevMode::kMinimal;
  std::vector<TmpfsMount> tmpfs;
  std::vector<BindMount> binds;
  std::vector<StorageMount> storage;
};

enum class NetworkMode {
  kNone,        // share the host's network namespace
  kEmpty,       // own network namespace with loopback only
  kInterfaces,  // own network namespace with the listed interfaces
};

enum class InterfaceType { kPhys, kVlan, kVeth, kMacvlan };
enum class MacvlanMode { kVepa, kPrivate, kBridge, kPassthru };

struct Route {
  std::string destination;  // "default" or CIDR
  std::string gateway;
};

struct NetInterface {
  InterfaceType type = InterfaceType::kVeth;
  std::string name;        // name inside the container (default eth0, eth1, ...)
  std::string parent;      // phys: host device; vlan/macvlan: parent device
  uint32_t vlan_id = 0;    // vlan
  std::string bridge;      // veth: host bridge to attach the host end to
  std::string host_name;   // veth: name of the host end (default generated)
  MacvlanMode macvlan_mode = MacvlanMode::kPrivate;
  std::string mac;         // "02:00:00:00:00:01" or empty
  std::vector<std::string> addresses;  // CIDR, IPv4 or IPv6
  std::vector<Route> routes;
  uint32_t mtu = 0;
  SourcePos pos;
};

// [network.firewall]: what a container's veth interfaces may receive and
// send, and NAT towards the WAN (docs/network.md, "Firewall").
enum class FwProtocol { kTcp, kUdp, kIcmp };

struct FirewallAllowIn {
  std::string interface;              // a container interface name (veth)
  FwProtocol protocol = FwProtocol::kTcp;
  std::vector<uint32_t> ports;        // tcp/udp: 1..65535; icmp: none
  std::vector<std::string> from;      // zones "host", "lan", "wan"; empty = all three
  SourcePos pos;
};

struct Firewall {
  bool enabled = false;                // the [network.firewall] table is present
  std::vector<std::string> lan, wan;   // host devices of each zone
  std::vector<std::string> allow_out;  // zones the container may open connections to
  bool masquerade = false;             // NAT the container's subnets out of `wan`
  std::vector<FirewallAllowIn> allow_in;
  SourcePos pos;
};

struct Network {
  NetworkMode mode = NetworkMode::kEmpty;
  std::vector<NetInterface> interfaces;
  Firewall firewall;
};

struct Rlimit {
  std::string name;  // "nofile", "nproc", ... (lowercase, no RLIMIT_ prefix)
  int resource = 0;  // RLIMIT_* value
  uint64_t soft = 0;
  uint64_t hard = 0;  // UINT64_MAX = unlimited
};

// [[devices.hotplug]]: hot-plugged block devices that belong to the container
// (docs/manifest.md). Matched on the kernel's own view of the device.
enum class HotplugDevtype { kAny, kDisk, kPartition };

struct HotplugRule {
  std::string name;                    // glob over the kernel name ("sd*")
  HotplugDevtype devtype = HotplugDevtype::kAny;
  std::vector<std::pair<std::string, std::string>> properties;  // kernel uevent KEY -> value glob
  std::string parent;                  // subsystem among the sysfs ancestors ("usb")
  bool read_only = false;              // access = "ro"
  std::string dir = "/dev";            // node: <dir>/<kernel name>
  uint32_t mode = 0600;
  Owner owner;
  SourcePos pos;
};

struct Devices {
  std::vector<HotplugRule> hotplug;
};

// [ipc.ubus]: the router's management bus (OpenWrt's ubus) bound into the
// container, and the access-control list that grants the app only the named
// objects and methods (manifests/ipc.cc; written by compose, policy/ubus_acl.h).
struct UbusGrant {
  std::string object;                // "network.interface.wan"; a trailing '*' is a prefix
  std::vector<std::string> methods;  // "status"; "*" for every method
};

struct Ipc {
  bool ubus = false;                               // the [ipc.ubus] table is present
  std::string socket = "/var/run/ubus/ubus.sock";  // host path of ubusd's socket
  std::string target;                              // inside the container; default: socket
  std::string user;                                // host account the ACL names; default: name
  std::vector<UbusGrant> grants;
};

struct KernelVersion {
  int major = 0, minor = 0, patch = 0;
  auto operator<=>(const KernelVersion&) const = default;
};

struct Manifest {
  int schema = 1;
  std::string name;
  uint64_t version = 0;          // monotonic, for anti-rollback
  uint64_t security_version = 0; // rollback index: the device never runs a lower one
  std::string version_string;    // human version
  std::string description;
  Arch arch = Arch::kX86_64;
  std::string compat;            // device compatibility string
  Process process;
  Rootfs rootfs;
  Users users;
  Security security;
  Namespaces namespaces;
  Cgroups cgroups;
  Seccomp seccomp;
  Mounts mounts;
  Network network;
  std::vector<Rlimit> rlimits;   // sorted by name
  Devices devices;
  Ipc ipc;
  Health health;
  std::optional<KernelVersion> kernel_min;
  std::string signing_key;       // key id (hex SHA-256 of the public key DER), optional

  std::string file;              // the manifest path as given
  std::string dir;               // its directory, for resolving relative paths
};

// Names used in text output, JSON and messages; the inverse parsers live in
// manifests/enums.h.
// The one table of each name set: the loader accepts these names, to_string
// prints them.
std::span<const std::pair<const char*, Arch>> arch_names();
std::span<const std::pair<const char*, RootfsStrategy>> strategy_names();
std::span<const std::pair<const char*, Model>> model_names();
std::span<const std::pair<const char*, SourceKind>> source_kind_names();
std::span<const std::pair<const char*, DeviceType>> device_type_names();
std::span<const std::pair<const char*, Compressor>> compressor_names();
std::span<const std::pair<const char*, SeccompAction>> seccomp_action_names();
std::span<const std::pair<const char*, Restart>> restart_names();
std::span<const std::pair<const char*, StorageKind>> storage_kind_names();
std::span<const std::pair<const char*, SysMode>> sys_mode_names();
std::span<const std::pair<const char*, DevMode>> dev_mode_names();
std::span<const std::pair<const char*, InterfaceType>> interface_type_names();
std::span<const std::pair<const char*, MacvlanMode>> macvlan_mode_names();
std::span<const std::pair<const char*, HotplugDevtype>> hotplug_devtype_names();

const char* to_string(Arch);
const char* to_string(Model);
const char* to_string(RootfsStrategy);
const char* to_string(SourceKind);
const char* to_string(DeviceType);
const char* to_string(Compressor);
const char* to_string(NsMode);
const char* to_string(SeccompAction);
const char* to_string(StorageKind);
const char* to_string(Restart);
const char* to_string(StorageMount::OwnerKind);
const char* to_string(SysMode);
const char* to_string(DevMode);
const char* to_string(NetworkMode);
const char* to_string(InterfaceType);
const char* to_string(MacvlanMode);
const char* to_string(HotplugDevtype);
std::string to_string(const KernelVersion&);

}  // namespace nestbox::manifests
