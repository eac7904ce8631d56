// Signing what `nestbox compose` wrote (`nestbox sign --composed`): one image
// per container, from its rootfs output and its baked policy, and one per
// overlay base, found through composer::OutputLayout and compose's records,
// never by guessing. Host only (reads manifests, policies and the staging
// rootfs); the front end parses, calls and prints.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "manifests/manifest.h"
#include "signer/image_builder.h"
#include "signer/tree_manifest_writer.h"
#include "util/result.h"

namespace nestbox::signer {

struct SignedImage {
  std::string path;
  BuiltImage image;
  // What was signed, for `sign -v`: the payload (a squashfs, or the tree
  // whose digest manifest was signed), the versions, and for an overlay base
  // the containers whose highest versions it carries.
  std::string source;
  uint64_t version = 0, security_version = 0;
  std::vector<std::string> base_of;
};

// A manifest may name the key that must sign it (signing_key = key id): bad
// input unless one of `key_uris` is that key.
Status check_signing_key(const manifests::Manifest& m, const std::vector<std::string>& key_uris);

// Builds one image at `out`; with a `tree` the payload is the tree's digest
// manifest, written beside `out` and removed again.
Result<SignedImage> sign_image(ImageSpec spec, const std::string& tree, const std::string& out,
                               const TreeManifestOptions& tree_options = {});

struct ComposedSignOptions {
  std::string composed;               // compose's --out
  std::string out;                    // where the images go (created)
  std::vector<std::string> key_uris;  // every image is signed by all
  bool verity = true;
  std::string hardlink_dir;           // "": what compose recorded, else the default
  std::optional<int64_t> created;     // SOURCE_DATE_EPOCH; unset: now
  // Told each image's progress (ImageSpec::progress), named by its image name.
  std::function<void(const std::string& name, uint64_t done, uint64_t total)> progress;
};

// OUT/NAME.img per container (its rootfs as its baked policy records the
// strategy, the manifest's identity) and OUT/BASE.img per overlay base, with
// the arch and compat of its containers and the highest of their versions (so
// a base is upgraded with them and never rolled back below them). Refuses the
// outputs of an interrupted compose, and a policy that does not match the
// rootfs outputs on disk (a stale output of another strategy is never signed).
Result<std::vector<SignedImage>> sign_composed(const std::vector<manifests::Manifest>& ms,
                                               const ComposedSignOptions& opts);

}  // namespace nestbox::signer
