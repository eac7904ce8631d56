// The three runtime forms of one container, written side by side (used by
// `nestbox compose` next to each rootfs output):
//   policy.bin    baked policy for nestbox-launch (docs/policy-format.md)
//   config.json   OCI runtime bundle config, root.path = "rootfs"
//   lxc.conf      LXC config (+ lxc.seccomp, its seccomp profile, if any)
// Each file is written to a temporary name and renamed into place; nothing is
// written before all three have been generated. Host only.
#pragma once

#include <string>

#include "manifests/model.h"
#include "util/result.h"

namespace nestbox::policy {

// The baked policy's file name in out_dir (composer/output_layout.h).
inline constexpr const char* kPolicyFileName = "policy.bin";

struct RuntimeFormsOptions {
  // Where out_dir will live on the device, for the absolute paths in lxc.conf
  // (rootfs, seccomp profile). Empty: out_dir itself.
  std::string device_dir;
  // Overlay containers: SHA-256 (64 lowercase hex) of the base image's payload
  // (its squashfs zero-padded to 4096), baked as rootfs.base_sha256. Empty:
  // none (the policy then pins no base digest).
  std::string base_sha256;
};

Status write_runtime_forms(const manifests::Manifest& m, const std::string& out_dir);
Status write_runtime_forms(const manifests::Manifest& m, const std::string& out_dir,
                           const RuntimeFormsOptions& options);

}  // namespace nestbox::policy
