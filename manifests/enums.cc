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

const char* to_string(Model m) { return m == Model::kProcess ? "process" : "system"; }

const char* to_string(RootfsStrategy s) { return name_of<RootfsStrategy>(kStrategyNames, s); }

const char* to_string(SourceKind k) {
  switch (k) {
    case SourceKind::kDirectory: return "dir";
    case SourceKind::kTar: return "tar";
    case SourceKind::kIpk: return "ipk";
    case SourceKind::kDeb: return "deb";
  }
  return "?";
}

const char* to_string(DeviceType t) {
  switch (t) {
    case DeviceType::kChar: return "char";
    case DeviceType::kBlock: return "block";
    case DeviceType::kFifo: return "fifo";
  }
  return "?";
}

const char* to_string(Compressor c) {
  switch (c) {
    case Compressor::kGzip: return "gzip";
    case Compressor::kXz: return "xz";
    case Compressor::kZstd: return "zstd";
    case Compressor::kLz4: return "lz4";
    case Compressor::kLzo: return "lzo";
  }
  return "?";
}

const char* to_string(NsMode m) {
  switch (m) {
    case NsMode::kNew: return "new";
    case NsMode::kHost: return "host";
    case NsMode::kJoin: return "join";
  }
  return "?";
}

const char* to_string(SeccompAction a) {
  switch (a) {
    case SeccompAction::kAllow: return "allow";
    case SeccompAction::kErrno: return "errno";
    case SeccompAction::kKill: return "kill";
    case SeccompAction::kLog: return "log";
    case SeccompAction::kTrap: return "trap";
  }
  return "?";
}

const char* to_string(Restart r) {
  switch (r) {
    case Restart::kOnFailure: return "on-failure";
    case Restart::kAlways: return "always";
    case Restart::kNever: return "never";
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

const char* to_string(StorageKind k) {
  switch (k) {
    case StorageKind::kDirectory: return "directory";
    case StorageKind::kImage: return "image";
    case StorageKind::kPartition: return "partition";
    case StorageKind::kOverlay: return "overlay";
  }
  return "?";
}

const char* to_string(SysMode m) {
  switch (m) {
    case SysMode::kReadOnly: return "ro";
    case SysMode::kReadWrite: return "rw";
    case SysMode::kNone: return "none";
  }
  return "?";
}

const char* to_string(DevMode m) { return m == DevMode::kMinimal ? "minimal" : "none"; }

const char* to_string(NetworkMode m) {
  switch (m) {
    case NetworkMode::kNone: return "none";
    case NetworkMode::kEmpty: return "empty";
    case NetworkMode::kInterfaces: return "interfaces";
  }
  return "?";
}

const char* to_string(InterfaceType t) {
  switch (t) {
    case InterfaceType::kPhys: return "phys";
    case InterfaceType::kVlan: return "vlan";
    case InterfaceType::kVeth: return "veth";
    case InterfaceType::kMacvlan: return "macvlan";
  }
  return "?";
}

const char* to_string(MacvlanMode m) {
  switch (m) {
    case MacvlanMode::kVepa: return "vepa";
    case MacvlanMode::kPrivate: return "private";
    case MacvlanMode::kBridge: return "bridge";
    case MacvlanMode::kPassthru: return "passthru";
  }
  return "?";
}

const char* to_string(HotplugDevtype t) {
  switch (t) {
    case HotplugDevtype::kAny: return "any";
    case HotplugDevtype::kDisk: return "disk";
    case HotplugDevtype::kPartition: return "partition";
  }
  return "?";
}

std::string to_string(const KernelVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

}  // namespace nestbox::manifests
