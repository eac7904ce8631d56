// Loading the manifests a command operates on, as one validated set: every
// file parsed and checked, then checked together (manifests::validate_set),
// relative sources resolved against --staging when it is given.
#pragma once

#include <string>
#include <vector>

#include "manifests/manifest.h"
#include "util/result.h"

namespace nestbox::cli {

Result<std::vector<manifests::Manifest>> load_manifest_set(const std::vector<std::string>& files,
                                                           const std::string& staging = "");

// The --staging option of compose, plan and sign, worded the same everywhere.
inline constexpr const char* kStagingHelp =
    "Resolve relative [[rootfs.source]] paths against this directory (the firmware's staged "
    "rootfs, e.g. $(TARGET_DIR)) instead of each manifest's directory; \".\" names it itself";

}  // namespace nestbox::cli
