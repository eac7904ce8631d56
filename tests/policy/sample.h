// Test fixtures: a manifest using every feature, and small helpers.
#pragma once

#include <string>

#include "manifests/model.h"
#include "policy/policy.h"

namespace nestbox::policy::testing {

// A process-model container with every section filled in (x86_64).
manifests::Manifest full_manifest();

// A container whose root is the host's root (no user namespace), without
// capabilities or seccomp, no network, bound to `ubus_socket` at
// /ubus.sock: what a hostile image may try from inside runs under it
// (test_util.h: add_hostile_image).
manifests::Manifest hostile_manifest(const std::string& ubus_socket);

// A policy with every field set to a non-default value, no seccomp.
Policy full_policy();

}  // namespace nestbox::policy::testing
