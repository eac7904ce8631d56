// Baking: a validated Manifest becomes the Policy nestbox-launch applies, with
// the seccomp filter compiled for the manifest's target architecture. Host only.
#pragma once

#include <cstdint>

#include "manifests/model.h"
#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::policy {

// The Policy for `m`; fails (BadInput) when the result would not load on the
// device (checked with the same reader the device uses).
Result<Policy> bake(const manifests::Manifest& m);

// The wire's rootfs kind of a manifest's strategy.
RootfsKind rootfs_kind(manifests::RootfsStrategy s);

// bake() + encode(): the bytes of policy.bin.
Result<std::vector<uint8_t>> bake_binary(const manifests::Manifest& m);

// The kernel facilities `m` needs, as kernel-check's feature bits
// (kernel_check::required_feature_mask); bake() stores them in
// Policy::required_features, which nestbox-launch checks against the running
// kernel before anything is mounted.
uint64_t required_kernel_features(const manifests::Manifest& m);

}  // namespace nestbox::policy
