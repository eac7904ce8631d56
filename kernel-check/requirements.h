// What a container's manifest needs from the kernel: each policy feature it
// uses and the manifest key that uses it. The policy baker stores
// required_feature_mask() in policy::Policy::required_features. Host only.
// The rules are listed in docs/kernel-check.md ("What a manifest requires").
#pragma once

#include <cstdint>
#include <vector>

#include "kernel-check/report.h"
#include "manifests/model.h"

namespace nestbox::kernel_check {

// In manifest order; a (feature, key) pair appears once, a feature may appear
// under several keys.
std::vector<Requirement> requirements_of(const manifests::Manifest& m);

// Bit n set when Feature n is required.
uint64_t required_feature_mask(const manifests::Manifest& m);

// requirements_of() plus the container's name, file and kernel_min.
ContainerNeeds needs_of(const manifests::Manifest& m);

}  // namespace nestbox::kernel_check
