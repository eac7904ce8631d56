// LXC configuration (lxc.* keys, LXC 4.0/5.0) and its seccomp profile
// (LXC's version 2 text format) generated from the same manifest as the baked
// policy and the OCI bundle. Host only. docs/oci.md lists what LXC cannot express.
#pragma once

#include <string>

#include "manifests/model.h"
#include "util/result.h"

namespace nestbox::policy {

struct LxcOptions {
  std::string rootfs_path;           // lxc.rootfs.path (absolute, on the device)
  std::string seccomp_profile_path;  // lxc.seccomp.profile (absolute, on the device)
};

struct LxcConfig {
  std::string config;   // lxc.conf
  std::string seccomp;  // the profile; empty when the manifest has no seccomp
};

// Both option paths must be absolute, without "."/".." components or control
// characters (a line break would start a new lxc.* key).
Result<LxcConfig> lxc_config(const manifests::Manifest& m, const LxcOptions& options);

}  // namespace nestbox::policy
