// Where a container's mounts land inside it, and the one rule about how their
// targets may lie: none below the target of a mount whose contents the
// container writes and keeps across starts.
//
// The launcher resolves each target inside the container's root when it
// mounts it (RESOLVE_IN_ROOT: symlinks followed, never out of the root). A
// storage mount (or a writable bind) keeps what the container left in it, a
// symlink included: with `/data` as storage and `/data/cache` as another
// mount, the container replaces `cache` by a symlink to `/`, `/etc` or
// `/usr/bin`, and at the next start that mount covers the verified rootfs
// there (a storage over `/` runs the container's own files instead of the
// signed image). A tmpfs or a read-only bind starts the same every time. An
// overlay store over `/` is exempt: the whole root is then the container's to
// keep, and the other mounts sit inside it by design.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy/host_sources.h"
#include "policy/policy.h"

namespace nestbox::policy {

// The target of one mount (`read_only`: a bind the container cannot write),
// marked writable when the container's writes there outlive the start: the
// same shape as a host source, checked by the same source_below_writable.
void add_mount_target(MountKind kind, const std::string& target, bool read_only, size_t mount,
                      std::vector<HostSource>& out);

// The first pair (inner, outer) of a policy's mount targets (and the ubus
// socket's, `ubus_target`, numbered after the mounts) where inner lies below
// an outer whose contents the container keeps.
std::optional<std::pair<HostSource, HostSource>> target_below_kept(const std::vector<Mount>& mounts,
                                                                   const std::string& ubus_target);

}  // namespace nestbox::policy
