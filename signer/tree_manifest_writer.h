// Writes the tree digest manifest (verifier/tree_manifest.h) of a composed
// `tree` / `host-hardlink` rootfs, to be signed as an image of kind
// kTreeManifest (ImageSpec::payload_path).
#pragma once

#include <string>

#include "util/result.h"

namespace nestbox::signer {

struct TreeManifestOptions {
  // Record every entry as owned by 0:0: the tree is packed into a firmware
  // image root-owned (mksquashfs -root-owned), so on the device it is 0:0
  // whatever build user owned the staging directory. Modes, contents and
  // xattrs are kept as they are (so is a setuid bit: compose's setuid policy
  // decides those before the tree is written).
  bool root_owned = false;
  // Where the tree lives on the device (absolute, normalised; "" = none
  // recorded: the device looks in verifier::kDefaultTreeDir/NAME). Written as
  // the manifest's signed location line.
  std::string location;
};

// Walks `root` and writes its manifest to `out_path` atomically.
Status write_tree_manifest(const std::string& root, const std::string& out_path,
                           const TreeManifestOptions& options = {});

}  // namespace nestbox::signer
