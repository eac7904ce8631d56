// OCI runtime bundle configuration (config.json, runtime-spec 1.1) generated
// from the same manifest as the baked policy, for crun, runc and OpenWrt's
// uxc/ujail (docs/oci.md lists which keys each honours). Host only.
#pragma once

#include <string>

#include "manifests/model.h"
#include "util/result.h"

namespace nestbox::policy {

struct OciOptions {
  std::string root_path = "rootfs";  // root.path, relative to the bundle
  std::string cgroups_path;          // linux.cgroupsPath; empty: /nestbox/<name>
};

// Pretty-printed config.json (stable key order, trailing newline).
Result<std::string> oci_config(const manifests::Manifest& m, const OciOptions& options = {});

}  // namespace nestbox::policy
