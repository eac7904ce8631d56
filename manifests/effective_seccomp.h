// The seccomp rules a container really gets: its manifest's [seccomp] plus
// the host-keyring guard. One function, so the baked policy, the OCI and LXC
// forms and kernel-check all see the same filter.
//
// Why the guard: the kernel's per-uid user keyring (`@u`) is looked up by uid
// within a user namespace. A container in the host's user namespace runs as a
// host uid, so its processes reach that uid's user keyring: uid 0 (the
// default) reads and fills the one of the host's root, capabilities or not.
// A session keyring of its own (launcher/process.cc) does not cover `@u`.
#pragma once

#include <string_view>

#include "manifests/model.h"

namespace nestbox::manifests {

// The calls that reach a keyring. Denied with EPERM to a container in the
// host's user namespace unless its [seccomp] names them in `allow` (a signed,
// explicit decision) or denies them itself.
inline constexpr std::string_view kKeyringSyscalls[] = {"add_key", "keyctl", "request_key"};

// True when the container's processes run in the host's user namespace.
bool shares_host_user_namespace(const Manifest& m);

// `m.seccomp`, plus a deny rule for the keyring calls the rules would let
// through, when the container shares the host's user namespace. A manifest
// without [seccomp] then gets a filter that allows everything else.
Seccomp effective_seccomp(const Manifest& m);

}  // namespace nestbox::manifests
