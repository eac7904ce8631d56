// Public interface of the verifier: target-safe (libc + libcrypto). Used by
// `nestbox verify` on the host and by nestbox-launch at install and at every
// boot. Streaming, constant memory. Format: docs/image-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/dm_device.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::verifier {

enum class Mode {
  kFull,    // hash every byte of every region, check the signature
  kVerity,  // check the signature over metadata (incl. verity root hash) and
            // the policy only; the data is NOT checked here: the caller must
            // mount it through dm-verity built from the signed parameters
            // (ImageInfo::data_verified is false; docs/threat-model.md, class 6).
  kAuto,    // kVerity for an image with a hash tree, kFull for one without.
            // Only for a caller that sets up dm-verity (the kernel has it).
};

struct Keyring {
  std::string dir;                       // directory of trusted PEM public keys
  std::vector<std::string> revoked_ids;  // hex key ids
  // The device's trust anchor: the directory, every key file and `revoked`
  // must be owned by root and writable by nobody else, or the keyring fails
  // closed (whoever could write it could add a key or unrevoke one).
  // nestbox-launch sets it; the host's `nestbox verify` reads a build user's keys.
  bool only_root_writes = false;
};

struct DeviceIdentity {
  std::string arch;    // "x86_64", must equal the image's arch
  std::string compat;  // must equal the image's compatibility string
};

struct ImageInfo {
  std::string name;
  uint64_t version = 0;
  uint64_t security_version = 0;   // the rollback index (signed metadata)
  std::string version_string;
  std::string arch;
  std::string compat;
  int64_t created = 0;
  std::string signer_key_id;       // the key whose signature verified
  uint64_t squashfs_offset = 0, squashfs_size = 0;  // loop-mount window
  uint64_t verity_offset = 0, verity_size = 0;      // 0 size: no hash tree
  std::string verity_root_hex, verity_salt_hex;
  // Additive (dm-verity): the rest of the signed verity parameters.
  uint64_t verity_data_blocks = 0;
  uint32_t verity_hash_type = 0, verity_data_block_size = 0, verity_hash_block_size = 0;
  // True when every byte was hashed (Mode::kFull, or kAuto on an image
  // without a tree); false: only metadata and policy were checked, and the
  // payload may be mounted only through dm-verity.
  bool data_verified = false;
  std::string policy;              // the baked policy bytes (verified)
  // Additive (signer issue): kind kTreeManifest images carry the tree digest
  // manifest in the squashfs_offset/squashfs_size window instead of a squashfs.
  bool tree_manifest = false;
  uint64_t payload_size = 0;       // squashfs bytes before padding / manifest bytes
  std::string payload_sha256_hex;  // digest of the payload region (from signed metadata)
  std::vector<std::string> signer_key_ids;  // every trusted key whose signature verified
  // The signed image size (trailer and metadata): the file's size when it was
  // verified. A copy takes exactly this many bytes, whatever the file grew to.
  uint64_t image_size = 0;
};

// Opens an image file the one time it is opened: O_RDONLY | O_NOFOLLOW |
// O_NONBLOCK | O_CLOEXEC (a FIFO never blocks the open, a symlink is refused),
// then refuses anything fstat does not call a regular file. Everything after
// (verification, the loop device, the copy into a store slot) uses this fd,
// never the path again: a rename over the path cannot swap what was checked.
// Errors carry no path ("not a regular file"): the caller adds it.
Result<UniqueFd> open_image(const std::string& path);
// The same for `name` beneath the held directory `dir_fd` (a store slot):
// nothing on the way is looked up by path again.
Result<UniqueFd> open_image_at(int dir_fd, const std::string& name);

// Verifies the open image `fd` against `keyring`; fails closed with the region
// named. Trusted keys: every *.pem / *.pub public key in keyring.dir. Revoked:
// keyring.revoked_ids plus the ids listed in keyring.dir/revoked (one hex id a
// line, '#' comments). Accepted when at least one signature by a trusted,
// non-revoked key verifies and no signature by a trusted key fails. Reads the
// file once, constant memory. Errors carry no path (the caller adds it).
Result<ImageInfo> verify_image_fd(int fd, const Keyring& keyring, Mode mode);

// For an image about to be mounted: only root may be able to write its inode
// (owned by uid 0, no group or other write bit; an ACL granting write shows
// in the group bits). The fd pins the inode, not its bytes: a user who could
// write the same inode after verification would change what the loop device
// reads (docs/threat-model.md, class 1). Refused as well on FUSE and network
// filesystems, whose bytes a process or a remote host serves, and while any
// process holds the inode open for writing (a descriptor opened before a
// chown or chmod keeps writing; probed with a read lease, which the kernel
// grants only when nobody has it open for writing).
// Errors carry no path.
Status check_only_root_writes(int fd);
// The held-writer part alone (a regular file's fd): refused while any
// descriptor or shared writable mapping has the inode open for writing.
Status check_no_writer(int fd);

// A verified image and the fd it was verified from (to mount, or to copy).
struct VerifiedFile {
  UniqueFd fd;
  ImageInfo info;
};
// open_image + verify_image_fd; errors start with "verify PATH: ".
Result<VerifiedFile> open_verified(const std::string& path, const Keyring& keyring, Mode mode);
// The same for a file about to be mounted (run IMAGE, --base IMG):
// check_only_root_writes on the fd before it is verified, so its bytes cannot
// change between the hash and the loop device's reads.
Result<VerifiedFile> open_verified_to_mount(const std::string& path, const Keyring& keyring, Mode mode);

// Thin wrapper over open_verified for callers that need only the result
// (`nestbox verify`). Never mount the path afterwards: use open_verified.
Result<ImageInfo> verify_image(const std::string& path, const Keyring& keyring, Mode mode);

// Trailer, metadata and signatures of `fd`, without hashing the data regions:
// the signed identity (name, version, security_version) of an image whose
// payload may be damaged. Only for the rollback floor (a damaged slot still
// proves which index the device had installed); never for running an image.
Result<ImageInfo> verify_signed_metadata(int fd, const Keyring& keyring);

// The dm-verity parameters of a verified image with a hash tree, from its
// signed metadata only (never the on-disk superblock), for a device whose
// first byte is the squashfs window's first byte (the loop device): the
// superblock's offset is relative to it. Refuses an image without a tree.
Result<dm::VerityParams> verity_params(const ImageInfo& info);

// Anti-rollback and device identity, checked after the signature.
// `installed_version` is the version floor (install only; --allow-downgrade
// lifts it); the rollback index is check_security_version's.
Status check_installable(const ImageInfo& image, const DeviceIdentity& device,
                         uint64_t installed_version, bool allow_downgrade);

// The rollback index: refuses an image whose security_version is lower than
// the device's floor. Nothing lifts this (not --allow-downgrade).
Status check_security_version(const ImageInfo& image, uint64_t floor);

}  // namespace nestbox::verifier
