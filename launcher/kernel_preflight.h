// nestbox-launch's kernel-feature refusal (Options::preflight): the policy's
// baked required_features against a probe of the running kernel
// (kernel-check/probe.h). Front end; target-safe (libc only).
#pragma once

#include <string>

#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::launch {

// Fails naming every required feature the running kernel definitely lacks
// (missing, or a kernel too old for it) with its CONFIG_ symbols. A feature
// the probe cannot determine is not a refusal (the launcher's own steps fail
// closed), but is named in a warning on stderr. `probe_root` prefixes /proc,
// /sys, ... for tests ("" = the real ones).
// The squashfs decompressors are not checked here: on a kernel without
// /boot/config-* telling them takes a full read of /proc/kallsyms (60 ms on a
// 120 000-symbol kernel, more than the rest of a start), and the rootfs mount
// refuses an image the kernel cannot decompress anyway (EINVAL).
Status check_kernel_features(const policy::Policy& p, const std::string& probe_root = "");

// After a start failed: the checks check_kernel_features() left out (the
// squashfs decompressors), so the report names the real cause. Ok when they
// find nothing missing.
Status check_deferred_kernel_features(const policy::Policy& p, const std::string& probe_root = "");

}  // namespace nestbox::launch
