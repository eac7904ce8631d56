#include "manifests/model.h"

#include <array>
#include <utility>

#include "policy/arch.h"

namespace nestbox::manifests {

namespace {

// The names are policy::kArches' (the one list); Arch is its index.
constexpr size_t kArchCount = std::size(policy::kArches);
static_assert(static_cast<size_t>(Arch::kI386) + 1 == kArchCount, "manifests::Arch and policy::kArches differ");
constexpr std::array<std::pair<const char*, Arch>, kArchCount> make_arch_names() {
  std::array<std::pair<const char*, Arch>, kArchCount> t{};
  for (size_t i = 0; i < kArchCount; ++i) t[i] = {policy::kArches[i].name, static_cast<Arch>(i)};
  return t;
}
constexpr auto kArchNames = make_arch_names();
constexpr std::pair<const char*, RootfsStrategy> kStrategyNames[] = {
    {"host-hardlink", RootfsStrategy::kHostHardlink},
    {"tree", RootfsStrategy::kTree},
    {"squashfs", RootfsStrategy::kSquashfs},
    {"overlay", RootfsStrategy::kOverlay},
};
constexpr std::pair<const char*, Model> kModelNames[] = {
    {"process", Model::kProcess},
    {"system", Model::kSystem},
};
constexpr std::pair<const char*, SourceKind> kSourceKindNames[] = {
    {"dir", SourceKind::kDirectory},
    {"tar", SourceKind::kTar},
    {"ipk", SourceKind::kIpk},
    {"deb", SourceKind::kDeb},
};
constexpr std::pair<const char*, DeviceType> kDeviceTypeNames[] = {
    {"char", DeviceType::kChar},
    {"block", DeviceType::kBlock},
    {"fifo", DeviceType::kFifo},
};
constexpr std::pair<const char*, Compressor> kCompressorNames[] = {
    {"gzip", Compressor::kGzip},
    {"xz", Compressor::kXz},
    {"zstd", Compressor::kZstd},
    {"lz4", Compressor::kLz4},
    {"lzo", Compressor::kLzo},
};
constexpr std::pair<const char*, SeccompAction> kSeccompActionNames[] = {
    {"allow", SeccompAction::kAllow},
    {"errno", SeccompAction::kErrno},
    {"kill", SeccompAction::kKill},
    {"log", SeccompAction::kLog},
    {"trap", SeccompAction::kTrap},
};
constexpr std::pair<const char*, Restart> kRestartNames[] = {
    {"on-failure", Restart::kOnFailure},
    {"always", Restart::kAlways},
    {"never", Restart::kNever},
};
constexpr std::pair<const char*, StorageKind> kStorageKindNames[] = {
    {"directory", StorageKind::kDirectory},
    {"image", StorageKind::kImage},
    {"partition", StorageKind::kPartition},
    {"overlay", StorageKind::kOverlay},
};
constexpr std::pair<const char*, SysMode> kSysModeNames[] = {
    {"ro", SysMode::kReadOnly},
    {"rw", SysMode::kReadWrite},
    {"none", SysMode::kNone},
};
constexpr std::pair<const char*, DevMode> kDevModeNames[] = {
    {"minimal", DevMode::kMinimal},
    {"none", DevMode::kNone},
};
constexpr std::pair<const char*, InterfaceType> kInterfaceTypeNames[] = {
    {"phys", InterfaceType::kPhys},
    {"vlan", InterfaceType::kVlan},
    {"veth", InterfaceType::kVeth},
    {"macvlan", InterfaceType::kMacvlan},
};
constexpr std::pair<const char*, MacvlanMode> kMacvlanModeNames[] = {
    {"vepa", MacvlanMode::kVepa},
    {"private", MacvlanMode::kPrivate},
    {"bridge", MacvlanMode::kBridge},
    {"passthru", MacvlanMode::kPassthru},
};
constexpr std::pair<const char*, HotplugDevtype> kHotplugDevtypeNames[] = {
    {"any", HotplugDevtype::kAny},
    {"disk", HotplugDevtype::kDisk},
    {"partition", HotplugDevtype::kPartition},
};

template <typename E>
const char* name_of(std::span<const std::pair<const char*, E>> table, E value) {
  for (const auto& [name, v] : table)
    if (v == value) return name;
  return "?";
}

}  // namespace

std::span<const std::pair<const char*, Arch>> arch_names() { return kArchNames; }
std::span<const std::pair<const char*, RootfsStrategy>> strategy_names() { return kStrategyNames; }

const char* to_string(Arch a) { return name_of<Arch>(kArchNames, a); }
std::span<const std::pair<const char*, Model>> model_names() { return kModelNames; }
const char* to_string(Model v) { return name_of<Model>(kModelNames, v); }
std::span<const std::pair<const char*, SourceKind>> source_kind_names() { return kSourceKindNames; }
const char* to_string(SourceKind v) { return name_of<SourceKind>(kSourceKindNames, v); }
std::span<const std::pair<const char*, DeviceType>> device_type_names() { return kDeviceTypeNames; }
const char* to_string(DeviceType v) { return name_of<DeviceType>(kDeviceTypeNames, v); }
std::span<const std::pair<const char*, Compressor>> compressor_names() { return kCompressorNames; }
const char* to_string(Compressor v) { return name_of<Compressor>(kCompressorNames, v); }
std::span<const std::pair<const char*, SeccompAction>> seccomp_action_names() { return kSeccompActionNames; }
const char* to_string(SeccompAction v) { return name_of<SeccompAction>(kSeccompActionNames, v); }
std::span<const std::pair<const char*, Restart>> restart_names() { return kRestartNames; }
const char* to_string(Restart v) { return name_of<Restart>(kRestartNames, v); }
std::span<const std::pair<const char*, StorageKind>> storage_kind_names() { return kStorageKindNames; }
const char* to_string(StorageKind v) { return name_of<StorageKind>(kStorageKindNames, v); }
std::span<const std::pair<const char*, SysMode>> sys_mode_names() { return kSysModeNames; }
const char* to_string(SysMode v) { return name_of<SysMode>(kSysModeNames, v); }
std::span<const std::pair<const char*, DevMode>> dev_mode_names() { return kDevModeNames; }
const char* to_string(DevMode v) { return name_of<DevMode>(kDevModeNames, v); }
std::span<const std::pair<const char*, InterfaceType>> interface_type_names() { return kInterfaceTypeNames; }
const char* to_string(InterfaceType v) { return name_of<InterfaceType>(kInterfaceTypeNames, v); }
std::span<const std::pair<const char*, MacvlanMode>> macvlan_mode_names() { return kMacvlanModeNames; }
const char* to_string(MacvlanMode v) { return name_of<MacvlanMode>(kMacvlanModeNames, v); }
std::span<const std::pair<const char*, HotplugDevtype>> hotplug_devtype_names() { return kHotplugDevtypeNames; }
const char* to_string(HotplugDevtype v) { return name_of<HotplugDevtype>(kHotplugDevtypeNames, v); }

const char* to_string(RootfsStrategy s) { return name_of<RootfsStrategy>(kStrategyNames, s); }

const char* to_string(NsMode m) {
  switch (m) {
    case NsMode::kNew: return "new";
    case NsMode::kHost: return "host";
    case NsMode::kJoin: return "join";
  }
  return "?";
}

const char* to_string(StorageMount::OwnerKind k) {
  switch (k) {
    case StorageMount::OwnerKind::kUnset: return "unset";
    case StorageMount::OwnerKind::kIds: return "ids";
    case StorageMount::OwnerKind::kProcess: return "process";
  }
  return "?";
}

const char* to_string(NetworkMode m) {
  switch (m) {
    case NetworkMode::kNone: return "none";
    case NetworkMode::kEmpty: return "empty";
    case NetworkMode::kInterfaces: return "interfaces";
  }
  return "?";
}

std::string to_string(const KernelVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

}  // namespace nestbox::manifests
