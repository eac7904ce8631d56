// The on-disk layout of a baked policy (docs/policy-format.md is the prose of
// this file; keep them in step). Everything is little-endian and written field
// by field at the offsets asserted below, never by copying structs, so the
// layout does not depend on the build machine. Target-safe (libc only).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nestbox::policy::wire {

inline constexpr char kMagic[4] = {'N', 'B', 'X', 'P'};
// 2: cgroups.memory_swap_set (a swap limit of 0 is not "unset") and the
// declared device nodes at the end of the rootfs section.
// 3: per service (after its argv) u8 restart, u8[3] reserved, u32
// restart_limit, u32 restart_delay_ms; per mount (after fstype) u8 owner_set,
// u8[3] reserved, u32 uid, u32 gid; an empty process.argv with model system
// and services (nestbox's init).
// 4: new sections after seccomp, each exactly once (empty payload allowed):
// 12 firewall (the per-container nftables rules), 13 hotplug, 14 health, 15 ipc (ubus socket bind).
// Also in 4: in the rootfs section, after base_sha256: u64 base_min_version,
// u64 base_max_version, str base_key_id (the base requirement that replaces the pin).
inline constexpr uint16_t kVersion = 4;
inline constexpr uint32_t kMaxRestartLimit = 1000;
inline constexpr uint32_t kMaxRestartDelayMs = 60000;

// Bounds enforced by the reader (and therefore by the writer, which checks its
// own output with the reader).
inline constexpr size_t kMaxTotalSize = 1u << 20;   // 1 MiB
inline constexpr size_t kMaxString = 4096;          // PATH_MAX
inline constexpr size_t kMaxName = 64;              // container / service names
inline constexpr size_t kMaxHostname = 64;          // HOST_NAME_MAX
inline constexpr size_t kMaxArgs = 256;
inline constexpr size_t kMaxEnv = 1024;
inline constexpr size_t kMaxGroups = 1024;
inline constexpr size_t kMaxServices = 64;
inline constexpr size_t kMaxIdMaps = 340;           // kernel limit per map
inline constexpr size_t kMaxMounts = 128;
inline constexpr size_t kMaxInterfaces = 32;
inline constexpr size_t kMaxAddresses = 32;
inline constexpr size_t kMaxRoutes = 64;
inline constexpr size_t kMaxRlimits = 16;           // RLIM_NLIMITS
inline constexpr size_t kMaxDevices = 256;
inline constexpr size_t kMaxHotplugRules = 32;
inline constexpr size_t kMaxHotplugProperties = 16;
inline constexpr size_t kMaxFirewallZoneDevices = 16;  // lan / wan device names each
inline constexpr size_t kMaxFirewallRules = 64;        // allow_in entries
inline constexpr size_t kMaxFirewallPorts = 64;        // ports per allow_in entry
inline constexpr size_t kMaxBpfInsns = 4096;        // BPF_MAXINSNS
inline constexpr size_t kBpfInsnSize = 8;           // struct sock_filter
inline constexpr unsigned kLastCap = 40;            // CAP_CHECKPOINT_RESTORE

// File header, at offset 0.
struct Header {
  char magic[4];              // "NBXP"
  uint16_t version;           // kVersion
  uint16_t header_size;       // sizeof(Header)
  uint32_t total_size;        // whole blob, header included
  uint32_t flags;             // 0 in version 1
  uint64_t required_features; // kernel-check feature bits
  uint64_t reserved;          // 0
};
static_assert(sizeof(Header) == 32);
static_assert(offsetof(Header, magic) == 0);
static_assert(offsetof(Header, version) == 4);
static_assert(offsetof(Header, header_size) == 6);
static_assert(offsetof(Header, total_size) == 8);
static_assert(offsetof(Header, flags) == 12);
static_assert(offsetof(Header, required_features) == 16);
static_assert(offsetof(Header, reserved) == 24);

// Each section starts with this header; sections follow the file header in
// strictly ascending tag order, every tag of version 1 exactly once.
struct SectionHeader {
  uint16_t tag;
  uint16_t flags;   // 0 in version 1
  uint32_t length;  // payload bytes after this header
};
static_assert(sizeof(SectionHeader) == 8);
static_assert(offsetof(SectionHeader, tag) == 0);
static_assert(offsetof(SectionHeader, flags) == 2);
static_assert(offsetof(SectionHeader, length) == 4);

enum Tag : uint16_t {
  kTagIdentity = 1,
  kTagProcess = 2,
  kTagRootfs = 3,
  kTagNamespaces = 4,
  kTagIdMaps = 5,
  kTagSecurity = 6,
  kTagCgroups = 7,
  kTagMounts = 8,
  kTagNetwork = 9,
  kTagRlimits = 10,
  kTagSeccomp = 11,
  kTagFirewall = 12,  // issue 16.3 (s3/firewall)
  kTagHotplug = 13,   // issue 16.4
  kTagHealth = 14,    // issue 16.5
  kTagIpc = 15,       // issue 17.5: ubus socket bind
};
inline constexpr uint16_t kFirstTag = kTagIdentity;
inline constexpr uint16_t kLastTag = kTagIpc;

// Fixed-size records inside sections.
struct IdMapRecord {
  uint32_t inside;
  uint32_t outside;
  uint32_t count;
};
static_assert(sizeof(IdMapRecord) == 12);
static_assert(offsetof(IdMapRecord, inside) == 0);
static_assert(offsetof(IdMapRecord, outside) == 4);
static_assert(offsetof(IdMapRecord, count) == 8);

struct RlimitRecord {
  uint32_t resource;
  uint32_t reserved;  // 0
  uint64_t soft;
  uint64_t hard;
};
static_assert(sizeof(RlimitRecord) == 24);
static_assert(offsetof(RlimitRecord, resource) == 0);
static_assert(offsetof(RlimitRecord, reserved) == 4);
static_assert(offsetof(RlimitRecord, soft) == 8);
static_assert(offsetof(RlimitRecord, hard) == 16);

struct CgroupsRecord {
  uint64_t memory_max;
  uint64_t memory_swap_max;
  uint64_t cpu_quota_us;
  uint64_t cpu_period_us;
  uint32_t cpu_weight;
  uint32_t pids_max;
  uint32_t io_weight;
  uint8_t freezer;
  uint8_t memory_swap_set;        // bool: memory_swap_max is a limit (0 = no swap)
  uint8_t io_weight_best_effort;  // bool: no weight-honouring scheduler: start without it
  uint8_t reserved[1];            // 0
};
static_assert(sizeof(CgroupsRecord) == 48);
static_assert(offsetof(CgroupsRecord, memory_max) == 0);
static_assert(offsetof(CgroupsRecord, memory_swap_max) == 8);
static_assert(offsetof(CgroupsRecord, cpu_quota_us) == 16);
static_assert(offsetof(CgroupsRecord, cpu_period_us) == 24);
static_assert(offsetof(CgroupsRecord, cpu_weight) == 32);
static_assert(offsetof(CgroupsRecord, pids_max) == 36);
static_assert(offsetof(CgroupsRecord, io_weight) == 40);
static_assert(offsetof(CgroupsRecord, freezer) == 44);
static_assert(offsetof(CgroupsRecord, memory_swap_set) == 45);
static_assert(offsetof(CgroupsRecord, io_weight_best_effort) == 46);

// A declared device node (manifest [[rootfs.device]], char or block), followed
// by `str path`: the launcher's device allow-list admits exactly these besides
// the minimal /dev, and creates those below /dev in its /dev tmpfs.
struct DeviceRecord {
  uint8_t type;         // 0 char, 1 block
  uint8_t reserved[3];  // 0
  uint32_t major;
  uint32_t minor;
  uint32_t mode;        // permission bits (07777)
  uint32_t uid;         // owner inside the container
  uint32_t gid;
};
static_assert(sizeof(DeviceRecord) == 24);
static_assert(offsetof(DeviceRecord, type) == 0);
static_assert(offsetof(DeviceRecord, major) == 4);
static_assert(offsetof(DeviceRecord, minor) == 8);
static_assert(offsetof(DeviceRecord, mode) == 12);
static_assert(offsetof(DeviceRecord, uid) == 16);
static_assert(offsetof(DeviceRecord, gid) == 20);

// A hot-plug rule's fixed part (section hotplug), followed by `str name`,
// `str parent`, `str dir`, then `u16 count` properties of `str key`, `str value`.
struct HotplugRecord {
  uint8_t access;       // HotplugAccess bits (1 read, 2 write), at least read
  uint8_t devtype;      // 0 any, 1 disk, 2 partition
  uint8_t reserved[2];  // 0
  uint32_t mode;        // permission bits of the node (0777 at most)
  uint32_t uid;         // owner of the node
  uint32_t gid;
};
static_assert(sizeof(HotplugRecord) == 16);
static_assert(offsetof(HotplugRecord, access) == 0);
static_assert(offsetof(HotplugRecord, devtype) == 1);
static_assert(offsetof(HotplugRecord, mode) == 4);
static_assert(offsetof(HotplugRecord, uid) == 8);
static_assert(offsetof(HotplugRecord, gid) == 12);

// Mount fixed part, followed by strings source, target, fstype.
struct MountRecord {
  uint8_t kind;
  uint8_t reserved[3];  // 0
  uint32_t mode;
  uint32_t flags;
  uint32_t reserved2;   // 0
  uint64_t size;
};
static_assert(sizeof(MountRecord) == 24);
static_assert(offsetof(MountRecord, kind) == 0);
static_assert(offsetof(MountRecord, mode) == 4);
static_assert(offsetof(MountRecord, flags) == 8);
static_assert(offsetof(MountRecord, reserved2) == 12);
static_assert(offsetof(MountRecord, size) == 16);

// Classic BPF instruction (struct sock_filter), in the target's byte order.
struct BpfInsn {
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};
static_assert(sizeof(BpfInsn) == kBpfInsnSize);
static_assert(offsetof(BpfInsn, code) == 0);
static_assert(offsetof(BpfInsn, jt) == 2);
static_assert(offsetof(BpfInsn, jf) == 3);
static_assert(offsetof(BpfInsn, k) == 4);

}  // namespace nestbox::policy::wire
