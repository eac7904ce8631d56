// Internal to the manifests component: the [devices] table
// ([[devices.hotplug]] rules), read and checked apart from the rest.
#pragma once

#include "manifests/model.h"
#include "manifests/toml_reader.h"

namespace nestbox::manifests::detail {

void read_devices(TableView& top, Manifest& m);
// Rules that relate to other sections (namespaces, mounts).
void validate_devices(const Manifest& m, Diagnostics& d);

}  // namespace nestbox::manifests::detail
