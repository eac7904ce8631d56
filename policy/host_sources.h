// The host paths a container's mounts are taken from, and the one rule about
// how they may lie: none below a path the container can write.
//
// A writable bind or storage directory lets the container create, rename and
// replace anything below its source. If another mount's source lies there,
// the container replaces that path with a symlink (to /etc, /, a device
// directory) and the launcher, which mounts host paths by name at the next
// start, binds whatever the symlink names. Sources that repeat are allowed:
// a mount's own root cannot be replaced from inside it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy/policy.h"

namespace nestbox::policy {

struct HostSource {
  std::string path;  // absolute, clean
  bool writable;     // the container can change what lies below it
  size_t mount;      // index of the mount it belongs to
};

// The host paths of one mount (none for tmpfs and partitions; an overlay
// store's upper and work directories below its source).
void add_host_sources(MountKind kind, const std::string& source, bool read_only, size_t mount,
                      std::vector<HostSource>& out);

// The first pair (inner, outer) of sources of different mounts where inner
// lies strictly below the writable outer.
std::optional<std::pair<HostSource, HostSource>> source_below_writable(const std::vector<HostSource>& sources);

}  // namespace nestbox::policy
