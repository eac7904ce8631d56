// Names shared by every runtime form of a policy: capabilities, namespaces,
// rlimits, and the path where a container's namespaces are pinned so others
// can join them. Target-safe (libc only).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "policy/policy.h"

namespace nestbox::policy {

// "CAP_NET_ADMIN" for 12; nullptr above wire::kLastCap.
const char* capability_name(unsigned cap);
// Every capability name, indexed by number; and a name's number.
std::span<const char* const> capability_names();
std::optional<unsigned> capability_number(std::string_view name);

// Kernel name as in /proc/<pid>/ns/<name>: "mnt", "uts", "ipc", "pid", "net",
// "user", "cgroup".
const char* namespace_proc_name(NsIndex ns);
// OCI runtime-spec name: "mount", "uts", "ipc", "pid", "network", "user", "cgroup".
const char* namespace_oci_name(NsIndex ns);

// Where nestbox-launch pins container `container`'s namespace `ns` (a bind
// mount of /proc/<pid>/ns/<name>): /run/nestbox/<container>/ns/<proc name>.
std::string namespace_pin_path(const std::string& container, NsIndex ns);

// "RLIMIT_NOFILE" for RLIMIT_NOFILE; nullptr when unknown.
const char* rlimit_name(uint32_t resource);
// The manifest's names, without prefix ("nofile"), and the resource of one.
std::span<const char* const> rlimit_short_names();
std::optional<uint32_t> rlimit_resource(std::string_view short_name);

}  // namespace nestbox::policy
