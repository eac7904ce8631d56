// [ipc.ubus]: the router's management socket bound into the container and the
// ubusd access-control list that grants the app only the named objects and
// methods (docs/manifest.md "[ipc.ubus]"). Internal to the manifests component
// except host_ids(), which compose uses for the ACL's account.
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

namespace detail {
// Reads [ipc.ubus] (after [users] and [process]) and checks it.
void read_ipc(TableView& top, Manifest& m);
}  // namespace detail

}  // namespace nestbox::manifests
