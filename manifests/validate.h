// Internal to the manifests component: semantic rules over a parsed Manifest.
#pragma once

#include "manifests/model.h"
#include "manifests/toml_reader.h"

namespace nestbox::manifests::detail {

// Records every rule the manifest breaks; fills derived defaults (hostname,
// user/net namespace modes) when it passes.
void validate(Manifest& m, Diagnostics& diag);

// [network.firewall] (manifests/firewall.cc): read from the [network] table,
// and checked against the interfaces once they are validated.
void read_firewall(TableView& network, Manifest& m);
void validate_firewall(Manifest& m, Diagnostics& diag);

}  // namespace nestbox::manifests::detail
