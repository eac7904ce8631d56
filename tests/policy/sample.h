// Test fixtures: a manifest using every feature, and small helpers.
#pragma once

#include "manifests/model.h"
#include "policy/policy.h"

namespace nestbox::policy::testing {

// A process-model container with every section filled in (x86_64).
manifests::Manifest full_manifest();

// A policy with every field set to a non-default value, no seccomp.
Policy full_policy();

}  // namespace nestbox::policy::testing
