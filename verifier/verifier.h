// Public interface of the verifier: target-safe (libc + libcrypto). Used by
// `nestbox verify` on the host and by nestbox-launch at install and at every
// boot. Streaming, constant memory. Format: docs/image-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.h"

namespace nestbox::verifier {

enum class Mode {
  kFull,    // hash every byte of every region, check the signature
  kVerity,  // check the signature over metadata (incl. verity root hash) only;
            // data blocks are then verified by dm-verity on read
};

struct Keyring {
  std::string dir;                       // directory of trusted PEM public keys
  std::vector<std::string> revoked_ids;  // hex key ids
};

struct DeviceIdentity {
  std::string arch;    // "x86_64", must equal the image's arch
  std::string compat;  // must equal the image's compatibility string
};

struct ImageInfo {
  std::string name;
  uint64_t version = 0;
  std::string version_string;
  std::string arch;
  std::string compat;
  int64_t created = 0;
  std::string signer_key_id;       // the key whose signature verified
  uint64_t squashfs_offset = 0, squashfs_size = 0;  // loop-mount window
  uint64_t verity_offset = 0, verity_size = 0;      // 0 size: no hash tree
  std::string verity_root_hex, verity_salt_hex;
  std::string policy;              // the baked policy bytes (verified)
  // Additive (signer issue): kind kTreeManifest images carry the tree digest
  // manifest in the squashfs_offset/squashfs_size window instead of a squashfs.
  bool tree_manifest = false;
  uint64_t payload_size = 0;       // squashfs bytes before padding / manifest bytes
  std::string payload_sha256_hex;  // digest of the payload region (from signed metadata)
  std::vector<std::string> signer_key_ids;  // every trusted key whose signature verified
};

// Verifies `path` against `keyring`; fails closed with the region named.
// Trusted keys: every *.pem / *.pub public key in keyring.dir. Revoked: keyring.revoked_ids
// plus the ids listed in keyring.dir/revoked (one hex id a line, '#' comments).
// Accepted when at least one signature by a trusted, non-revoked key verifies
// and no signature by a trusted key fails. Reads the file once, constant memory.
Result<ImageInfo> verify_image(const std::string& path, const Keyring& keyring, Mode mode);

// Anti-rollback and device identity, checked after the signature.
Status check_installable(const ImageInfo& image, const DeviceIdentity& device,
                         uint64_t installed_version, bool allow_downgrade);

}  // namespace nestbox::verifier
