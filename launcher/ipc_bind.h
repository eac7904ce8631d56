// [ipc.ubus] at run time: the router's management socket (ubusd's) bound into
// the container. The host socket is opened once without following a final
// symlink and must be a socket, lying where only root or its owner can change
// the directories on its way and outside every host source the container can
// write (the name may pass through the host's own links, the directories
// reached may not); the place inside the container is resolved
// beneath the root with openat2(RESOLVE_IN_ROOT) and must be the empty
// regular file compose made there (never a symlink, never a directory).
// Either check failing refuses the start: nothing is bound half-way.
// The grants are ubusd's own ACL (policy/ubus_acl.h), not enforced here.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::launcher {

// Binds `host_socket` onto `target` (absolute, inside the root `root_fd`),
// nosuid, nodev, noexec. `writable_sources` are the host paths the container
// can write (clean, absolute; policy/host_sources.h).
Status bind_socket_in_root(const std::string& host_socket, int root_fd, const std::string& target,
                           const std::vector<std::string>& writable_sources);

// The policy's ubus socket, when it has one.
Status bind_ipc(const policy::Policy& policy, int root_fd);

}  // namespace nestbox::launcher
