// Writes the tree digest manifest (verifier/tree_manifest.h) of a composed
// `tree` / `host-hardlink` rootfs, to be signed as an image of kind
// kTreeManifest (ImageSpec::payload_path).
#pragma once

#include <string>

#include "util/result.h"

namespace nestbox::signer {

// Walks `root` and writes its manifest to `out_path` atomically.
Status write_tree_manifest(const std::string& root, const std::string& out_path);

}  // namespace nestbox::signer
