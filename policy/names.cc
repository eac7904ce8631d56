#include "policy/names.h"

#include <sys/resource.h>

#include <array>

#include "policy/wire.h"

namespace nestbox::policy {
namespace {

constexpr const char* kCaps[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
static_assert(sizeof(kCaps) / sizeof(kCaps[0]) == wire::kLastCap + 1);

constexpr const char* kNsProc[kNsCount] = {"mnt", "uts", "ipc", "pid", "net", "user", "cgroup"};
constexpr const char* kNsOci[kNsCount] = {"mount", "uts", "ipc", "pid", "network", "user", "cgroup"};

// Each resource with its kernel name (OCI) and the manifest's name (LXC's too).
struct RlimitName {
  uint32_t resource;
  const char* name;
  const char* short_name;
};
constexpr RlimitName kRlimits[] = {
    {RLIMIT_AS, "RLIMIT_AS", "as"},
    {RLIMIT_CORE, "RLIMIT_CORE", "core"},
    {RLIMIT_CPU, "RLIMIT_CPU", "cpu"},
    {RLIMIT_DATA, "RLIMIT_DATA", "data"},
    {RLIMIT_FSIZE, "RLIMIT_FSIZE", "fsize"},
    {RLIMIT_LOCKS, "RLIMIT_LOCKS", "locks"},
    {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", "memlock"},
    {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", "msgqueue"},
    {RLIMIT_NICE, "RLIMIT_NICE", "nice"},
    {RLIMIT_NOFILE, "RLIMIT_NOFILE", "nofile"},
    {RLIMIT_NPROC, "RLIMIT_NPROC", "nproc"},
    {RLIMIT_RSS, "RLIMIT_RSS", "rss"},
    {RLIMIT_RTPRIO, "RLIMIT_RTPRIO", "rtprio"},
    {RLIMIT_RTTIME, "RLIMIT_RTTIME", "rttime"},
    {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING", "sigpending"},
    {RLIMIT_STACK, "RLIMIT_STACK", "stack"},
};
constexpr auto kRlimitShortNames = [] {
  std::array<const char*, std::size(kRlimits)> names{};
  for (size_t i = 0; i < names.size(); ++i) names[i] = kRlimits[i].short_name;
  return names;
}();

}  // namespace

const char* capability_name(unsigned cap) { return cap <= wire::kLastCap ? kCaps[cap] : nullptr; }

std::span<const char* const> capability_names() { return kCaps; }

std::optional<unsigned> capability_number(std::string_view name) {
  for (unsigned i = 0; i < std::size(kCaps); ++i)
    if (name == kCaps[i]) return i;
  return std::nullopt;
}

const char* namespace_proc_name(NsIndex ns) { return ns < kNsCount ? kNsProc[ns] : "?"; }
const char* namespace_oci_name(NsIndex ns) { return ns < kNsCount ? kNsOci[ns] : "?"; }

std::string namespace_pin_path(const std::string& container, NsIndex ns) {
  return "/run/nestbox/" + container + "/ns/" + namespace_proc_name(ns);
}

const char* rlimit_name(uint32_t resource) {
  for (const RlimitName& r : kRlimits)
    if (r.resource == resource) return r.name;
  return nullptr;
}

std::span<const char* const> rlimit_short_names() { return kRlimitShortNames; }

std::optional<uint32_t> rlimit_resource(std::string_view short_name) {
  for (const RlimitName& r : kRlimits)
    if (short_name == r.short_name) return r.resource;
  return std::nullopt;
}

}  // namespace nestbox::policy
