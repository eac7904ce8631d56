// [ipc.ubus]: the router's management socket bound into the container and the
// ubusd access-control list that grants the app only the named objects and
// methods (docs/manifest.md "[ipc.ubus]"). Internal to the manifests component
// except host_ids(), which compose uses for the ACL's account, and
// may_become_host_root(), which validate uses too.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "manifests/model.h"
#include "manifests/toml_reader.h"

namespace nestbox::manifests {

// The container's process user and group as the host sees them (through the
// user namespace's maps when it has one): what ubusd reads with SO_PEERCRED.
// nullopt when an id is not mapped.
std::optional<std::pair<uint32_t, uint32_t>> host_ids(const Manifest& m);

// The process is the host's uid 0 or can become it: no_new_privs off (a
// setuid-root program) or CAP_SETUID where host uid 0 is reachable
// (util/host_root.h; the policy reader asks the same).
bool may_become_host_root(const Manifest& m);
// Its gid side (util/host_root.h): the host's gid 0 writes /sys files too.
bool may_join_host_root_group(const Manifest& m);

namespace detail {
// Reads [ipc.ubus] (after [users] and [process]) and checks it.
void read_ipc(TableView& top, Manifest& m);
}  // namespace detail

}  // namespace nestbox::manifests
