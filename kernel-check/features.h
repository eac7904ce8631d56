// The kernel facilities a nestbox container can require, as one constexpr
// table. Target-safe: plain data, no dependencies, shared by the host checker
// (kernel config) and nestbox-launch's probe (running kernel).
//
// STABILITY: a Feature's numeric value is its bit in policy::Policy::
// required_features (bit n = Feature n), which is baked into signed images.
// Values are < 64, never renumbered or reused; new features are appended.
//
// Each facility names the kernel config symbols that provide it as a small
// expression (see `config` below) and the first mainline version that has it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace nestbox::kernel_check {

struct Version {
  int major = 0, minor = 0, patch = 0;
  constexpr bool known() const { return major != 0; }
  constexpr auto operator<=>(const Version&) const = default;
};

// The talk's "which container facilities apply?" list, plus network and file
// system (its "difficult to configure" part) and everything else.
enum class Category : uint8_t {
  kNamespaces,
  kCgroups,
  kCapabilities,
  kMac,  // SELinux / AppArmor
  kSeccomp,
  kFilesystem,
  kNetwork,
  kOther,
};

// Who checks a facility: the talk's table, lxc-checkconfig, moby's
// check-config.sh, nestbox itself. A bit set.
enum Source : uint8_t {
  kFromTalk = 1 << 0,
  kFromLxc = 1 << 1,
  kFromMoby = 1 << 2,
  kFromNestbox = 1 << 3,
};

enum class Feature : uint8_t {
  kMountNs = 0,
  kUtsNs = 1,
  kIpcNs = 2,
  kPidNs = 3,
  kNetNs = 4,
  kUserNs = 5,
  kCgroupV1 = 6,
  kCgroupV2 = 7,
  kAppArmor = 8,
  kSelinux = 9,
  kSeccomp = 10,
  kSeccompFilter = 11,
  kSeccompKillProcess = 12,
  kSeccompLog = 13,
  kNoNewPrivs = 14,
  kAmbientCaps = 15,
  kCgroupNs = 16,
  kMemory = 17,
  kMemorySwap = 18,
  kCpu = 19,
  kCpuQuota = 20,
  kPids = 21,
  kIoWeight = 22,
  kCpuset = 23,
  kFreeze = 24,
  kCgroupKill = 25,
  kDeviceCgroup = 26,
  kLoop = 27,
  kLoopConfigure = 28,
  kSquashfs = 29,
  kSquashfsGzip = 30,
  kSquashfsXz = 31,
  kSquashfsLzo = 32,
  kSquashfsLz4 = 33,
  kSquashfsZstd = 34,
  kOverlayFs = 35,
  kDmVerity = 36,
  kTmpfs = 37,
  kDevpts = 38,
  kProcFs = 39,
  kSysfs = 40,
  kVeth = 41,
  kBridge = 42,
  kMacvlan = 43,
  kVlan = 44,
  kIpv6 = 45,
  kExt4 = 46,
  kF2fs = 47,
  kUbifs = 48,
  kJffs2 = 49,
  kVfat = 50,
  kOpenat2 = 51,
  kPosixMqueue = 52,
};
inline constexpr int kFeatureCount = 53;
static_assert(kFeatureCount <= 64, "required_features is a uint64 bitmask");

constexpr uint64_t feature_bit(Feature f) { return uint64_t{1} << static_cast<unsigned>(f); }

// One row of the knowledge base. `config` is a space-separated list of
// clauses that must all hold; a clause is a '|'-separated list of
// alternatives of which one must hold. An alternative is a config symbol
// without its CONFIG_ prefix (holds when =y or =m) or ">=X.Y[.Z]" (holds on
// kernels of at least that version). Empty: no config symbol, the facility is
// in every kernel since `since`. Example: "CGROUPS MEMCG|CGROUP_MEM_RES_CTLR".
struct Facility {
  int bit;               // Feature value (0..63), or -1 for rows no policy can require
  const char* name;      // stable identifier: "user_ns"
  const char* title;     // human name: "User namespace"
  Category category;
  Version since;         // first kernel version; {0,0,0} = always there
  Version until;         // only checked on kernels older than this; {0,0,0} = no end
  const char* config;    // expression over CONFIG_ symbols, see above
  uint8_t sources;       // Source bits
  // OpenWrt's kernel module package that provides the facility
  // (package/kernel/linux/modules/*.mk of openwrt/openwrt), or nullptr when
  // OpenWrt has none: the facility is then built in, asked for with the
  // buildroot's KERNEL_<SYMBOL> options (config/Config-kernel.in) or the
  // target's kernel config. `nestbox kernel-check --openwrt-packages`.
  const char* openwrt_kmod = nullptr;
};

inline constexpr Version kAlways{};

// Indexed by Feature. The talk's table first (kFromTalk), then later facts and
// nestbox's own needs.
inline constexpr std::array<Facility, kFeatureCount> kFeatures = {{
    {0, "mount_ns", "Mount namespace", Category::kNamespaces, {2, 4, 19}, {}, "", kFromTalk | kFromNestbox},
    {1, "uts_ns", "UTS namespace", Category::kNamespaces, {2, 6, 19}, {}, "UTS_NS", kFromTalk | kFromLxc | kFromMoby | kFromNestbox},
    {2, "ipc_ns", "IPC namespace", Category::kNamespaces, {2, 6, 19}, {}, "IPC_NS", kFromTalk | kFromLxc | kFromMoby | kFromNestbox},
    {3, "pid_ns", "PID namespace", Category::kNamespaces, {2, 6, 24}, {}, "PID_NS", kFromTalk | kFromLxc | kFromMoby | kFromNestbox},
    {4, "net_ns", "Network namespace", Category::kNamespaces, {2, 6, 24}, {}, "NET_NS", kFromTalk | kFromLxc | kFromMoby | kFromNestbox},
    {5, "user_ns", "User namespace", Category::kNamespaces, {3, 8, 0}, {}, "USER_NS", kFromTalk | kFromLxc | kFromMoby | kFromNestbox},
    {6, "cgroup_v1", "Cgroup v1", Category::kCgroups, {2, 6, 24}, {}, "CGROUPS", kFromTalk | kFromLxc | kFromMoby},
    {7, "cgroup_v2", "Cgroup v2", Category::kCgroups, {4, 5, 0}, {}, "CGROUPS", kFromTalk | kFromNestbox},
    {8, "apparmor", "AppArmor", Category::kMac, {2, 6, 36}, {}, "SECURITY_APPARMOR", kFromTalk | kFromMoby | kFromNestbox},
    {9, "selinux", "SELinux", Category::kMac, {2, 6, 0}, {}, "SECURITY_SELINUX", kFromTalk | kFromMoby | kFromNestbox},
    {10, "seccomp", "Seccomp", Category::kSeccomp, {2, 6, 12}, {}, "SECCOMP", kFromTalk | kFromMoby},
    {11, "seccomp_filter", "Seccomp filter (BPF)", Category::kSeccomp, {3, 5, 0}, {}, "SECCOMP SECCOMP_FILTER", kFromMoby | kFromNestbox},
    {12, "seccomp_kill_process", "Seccomp action kill-process", Category::kSeccomp, {4, 14, 0}, {}, "SECCOMP SECCOMP_FILTER", kFromNestbox},
    {13, "seccomp_log", "Seccomp action log", Category::kSeccomp, {4, 14, 0}, {}, "SECCOMP SECCOMP_FILTER", kFromNestbox},
    {14, "no_new_privs", "no_new_privs", Category::kCapabilities, {3, 5, 0}, {}, "", kFromNestbox},
    {15, "ambient_caps", "Ambient capabilities", Category::kCapabilities, {4, 3, 0}, {}, "", kFromNestbox},
    {16, "cgroup_ns", "Cgroup namespace", Category::kNamespaces, {4, 6, 0}, {}, "CGROUPS", kFromLxc | kFromNestbox},
    {17, "memory", "Memory controller", Category::kCgroups, {2, 6, 25}, {}, "CGROUPS MEMCG|CGROUP_MEM_RES_CTLR", kFromLxc | kFromMoby | kFromNestbox},
    {18, "memory_swap", "Memory controller swap limit", Category::kCgroups, {2, 6, 34}, {}, "CGROUPS MEMCG SWAP MEMCG_SWAP|>=6.1", kFromMoby | kFromNestbox},
    {19, "cpu", "Cpu controller (cgroup v2)", Category::kCgroups, {4, 15, 0}, {}, "CGROUPS CGROUP_SCHED FAIR_GROUP_SCHED", kFromMoby | kFromNestbox},
    {20, "cpu_quota", "Cpu bandwidth limit", Category::kCgroups, {4, 15, 0}, {}, "CGROUPS CGROUP_SCHED FAIR_GROUP_SCHED CFS_BANDWIDTH", kFromMoby | kFromNestbox},
    {21, "pids", "Pids controller", Category::kCgroups, {4, 3, 0}, {}, "CGROUPS CGROUP_PIDS", kFromMoby | kFromNestbox},
    {22, "io_weight", "Io controller weight", Category::kCgroups, {4, 5, 0}, {}, "CGROUPS BLK_CGROUP BLK_CGROUP_IOCOST|BFQ_GROUP_IOSCHED", kFromNestbox},
    {23, "cpuset", "Cpuset controller (cgroup v2)", Category::kCgroups, {5, 0, 0}, {}, "CGROUPS CPUSETS", kFromLxc | kFromMoby | kFromNestbox},
    {24, "cgroup_freeze", "Cgroup v2 freezer (cgroup.freeze)", Category::kCgroups, {5, 2, 0}, {}, "CGROUPS", kFromNestbox},
    {25, "cgroup_kill", "cgroup.kill", Category::kCgroups, {5, 14, 0}, {}, "CGROUPS", kFromNestbox},
    {26, "device_cgroup_bpf", "Device control (cgroup v2 BPF)", Category::kCgroups, {4, 15, 0}, {}, "CGROUPS CGROUP_BPF", kFromMoby},
    {27, "loop", "Loop block device", Category::kFilesystem, kAlways, {}, "BLK_DEV_LOOP", kFromNestbox, "kmod-loop"},
    {28, "loop_configure", "LOOP_CONFIGURE ioctl", Category::kFilesystem, {5, 8, 0}, {}, "BLK_DEV_LOOP", kFromNestbox, "kmod-loop"},
    {29, "squashfs", "Squashfs", Category::kFilesystem, {2, 6, 29}, {}, "SQUASHFS", kFromNestbox, "kmod-fs-squashfs"},
    {30, "squashfs_gzip", "Squashfs gzip (zlib) images", Category::kFilesystem, {2, 6, 29}, {}, "SQUASHFS SQUASHFS_ZLIB", kFromNestbox},
    {31, "squashfs_xz", "Squashfs xz images", Category::kFilesystem, {2, 6, 38}, {}, "SQUASHFS SQUASHFS_XZ", kFromNestbox, "kmod-fs-squashfs"},
    {32, "squashfs_lzo", "Squashfs lzo images", Category::kFilesystem, {2, 6, 36}, {}, "SQUASHFS SQUASHFS_LZO", kFromNestbox},
    {33, "squashfs_lz4", "Squashfs lz4 images", Category::kFilesystem, {3, 19, 0}, {}, "SQUASHFS SQUASHFS_LZ4", kFromNestbox},
    {34, "squashfs_zstd", "Squashfs zstd images", Category::kFilesystem, {4, 14, 0}, {}, "SQUASHFS SQUASHFS_ZSTD", kFromNestbox},
    {35, "overlayfs", "OverlayFS", Category::kFilesystem, {3, 18, 0}, {}, "OVERLAY_FS", kFromMoby | kFromNestbox},
    {36, "dm_verity", "dm-verity", Category::kFilesystem, {3, 4, 0}, {}, "BLK_DEV_DM DM_VERITY", kFromNestbox},
    {37, "tmpfs", "tmpfs", Category::kFilesystem, kAlways, {}, "TMPFS", kFromNestbox},
    {38, "devpts", "devpts (one instance per container)", Category::kFilesystem, kAlways, {}, "UNIX98_PTYS DEVPTS_MULTIPLE_INSTANCES|>=4.7", kFromLxc | kFromMoby | kFromNestbox},
    {39, "procfs", "procfs", Category::kFilesystem, kAlways, {}, "PROC_FS", kFromNestbox},
    {40, "sysfs", "sysfs", Category::kFilesystem, kAlways, {}, "SYSFS", kFromNestbox},
    {41, "veth", "Veth pair device", Category::kNetwork, {2, 6, 24}, {}, "VETH", kFromLxc | kFromMoby | kFromNestbox, "kmod-veth"},
    {42, "bridge", "Bridge", Category::kNetwork, kAlways, {}, "BRIDGE", kFromLxc | kFromMoby | kFromNestbox, "kmod-bridge"},
    {43, "macvlan", "Macvlan (vepa, private, bridge)", Category::kNetwork, {2, 6, 33}, {}, "MACVLAN", kFromLxc | kFromMoby | kFromNestbox, "kmod-macvlan"},
    {44, "vlan", "802.1Q VLAN", Category::kNetwork, kAlways, {}, "VLAN_8021Q", kFromLxc | kFromNestbox, "kmod-8021q"},
    {45, "ipv6", "IPv6", Category::kNetwork, kAlways, {}, "IPV6", kFromNestbox},
    {46, "ext4", "ext4", Category::kFilesystem, kAlways, {}, "EXT4_FS", kFromMoby | kFromNestbox, "kmod-fs-ext4"},
    {47, "f2fs", "F2FS", Category::kFilesystem, {3, 8, 0}, {}, "F2FS_FS", kFromNestbox, "kmod-fs-f2fs"},
    {48, "ubifs", "UBIFS", Category::kFilesystem, {2, 6, 27}, {}, "UBIFS_FS", kFromNestbox},
    {49, "jffs2", "JFFS2", Category::kFilesystem, kAlways, {}, "JFFS2_FS", kFromNestbox},
    {50, "vfat", "VFAT", Category::kFilesystem, kAlways, {}, "VFAT_FS", kFromNestbox, "kmod-fs-vfat"},
    {51, "openat2", "openat2 (RESOLVE_IN_ROOT)", Category::kFilesystem, {5, 6, 0}, {}, "", kFromNestbox},
    {52, "posix_mqueue", "POSIX message queues", Category::kNamespaces, kAlways, {}, "POSIX_MQUEUE", kFromMoby | kFromNestbox},
}};

namespace detail {
constexpr bool ids_match_positions() {
  for (int i = 0; i < kFeatureCount; ++i)
    if (kFeatures[i].bit != i) return false;
  return true;
}
}  // namespace detail
static_assert(detail::ids_match_positions(), "kFeatures[i] must describe Feature i");

constexpr const Facility& facility(Feature f) { return kFeatures[static_cast<unsigned>(f)]; }

// The Feature called `name` ("user_ns"), or false.
constexpr bool feature_by_name(std::string_view name, Feature* out) {
  for (const Facility& f : kFeatures)
    if (name == f.name) {
      *out = static_cast<Feature>(f.bit);
      return true;
    }
  return false;
}

const char* to_string(Category c);

}  // namespace nestbox::kernel_check
