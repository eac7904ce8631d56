// Which network link kinds (veth, bridge, macvlan, vlan) the running kernel
// knows, asked of rtnetlink in a throwaway network namespace of a forked child
// so nothing is created in the caller's namespace. Target-safe (libc only).
#pragma once

#include <string>
#include <vector>

namespace nestbox::kernel_check {

// One character per kind: '1' known (created, or EINVAL for want of a parent
// device), '0' unknown ("Unknown device type", EOPNOTSUPP; after the kernel
// tried to load the module), '?' cannot tell (no CAP_SYS_ADMIN, no netlink).
// At most 10 kinds.
std::string probe_link_kinds(const std::vector<const char*>& kinds);

}  // namespace nestbox::kernel_check
