// Assembles and signs one image file (docs/image-format.md): payload (padded
// squashfs or tree manifest), optional verity tree, policy, metadata,
// signatures, trailer. Written to a temp file beside the output and renamed
// into place only when complete.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "verifier/image_format.h"

namespace nestbox::signer {

struct ImageSpec {
  image::Kind kind = image::Kind::kSquashfs;
  std::string payload_path;   // squashfs image, or a tree manifest (tree_manifest.h)
  std::string policy;         // baked policy bytes (opaque here)
  std::string name, version_string, arch, compat;
  uint64_t version = 0;
  uint64_t security_version = 0;  // rollback index (docs/image-format.md)
  // Creation time (the front end passes SOURCE_DATE_EPOCH); unset: now.
  std::optional<int64_t> created;
  bool verity = true;         // squashfs only
  std::string verity_salt;    // 32 raw bytes; empty: derived from the payload digest
  // Private keys: paths or OSSL_STORE URIs (file:, pkcs11:, ...). One signature each.
  std::vector<std::string> key_uris;
  // Told how many of `total` bytes are done (the payload copied and hashed,
  // then read again for the verity tree), for a progress line; may be empty.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct BuiltImage {
  uint64_t size = 0;
  std::string verity_root_hex, verity_salt_hex;
  std::vector<std::string> key_ids;  // hex, in signature order
};

Result<BuiltImage> build_image(const ImageSpec& spec, const std::string& out_path);

}  // namespace nestbox::signer
