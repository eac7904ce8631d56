// The signed image format, version 1: the one definition shared by the signer
// (host) and the verifier (target). Prose: docs/image-format.md.
//
//   [payload]    squashfs at offset 0, zero-padded to 4096 (kind kSquashfs), or
//                the tree digest manifest, unpadded (kind kTreeManifest)
//   [verity]     optional: veritysetup superblock + hash tree (format 1, sha256,
//                4096/4096), exactly `veritysetup format --hash-offset=<verity.offset>`
//   [policy]     the baked policy, opaque bytes
//   [metadata]   Metadata, 1024 bytes
//   [signatures] SignatureBlockHeader + count * SignatureEntry
//   [trailer]    Trailer, the last 128 bytes of the file
//
// All regions are contiguous. Every on-disk struct is made of byte arrays only
// (integers are little-endian LeN), so sizeof/offsetof are exact on every ABI
// and decoding never depends on host endianness or alignment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace nestbox::image {

inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint64_t kBlockSize = 4096;
inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kMaxSignatures = 16;
inline constexpr size_t kMaxSignatureSize = 512;  // RSA-4096
inline constexpr uint64_t kMaxPolicySize = 256 * 1024;
inline constexpr size_t kVeritySaltSize = 32;

template <size_t N>
struct LeInt {
  uint8_t b[N];
  uint64_t get() const {
    uint64_t v = 0;
    for (size_t i = N; i-- > 0;) v = (v << 8) | b[i];
    return v;
  }
  void set(uint64_t v) {
    for (size_t i = 0; i < N; ++i, v >>= 8) b[i] = static_cast<uint8_t>(v & 0xff);
  }
};
using Le16 = LeInt<2>;
using Le32 = LeInt<4>;
using Le64 = LeInt<8>;

enum class Kind : uint32_t { kSquashfs = 0, kTreeManifest = 1 };
enum class SigAlgorithm : uint16_t { kEd25519 = 1, kEcdsaP256Sha256 = 2, kRsaPssSha256 = 3 };
enum MetadataFlags : uint32_t { kHasVerity = 1u << 0 };

inline constexpr char kMetadataMagic[8] = {'N', 'B', 'X', 'M', 'E', 'T', 'A', '1'};
inline constexpr char kSignaturesMagic[8] = {'N', 'B', 'X', 'S', 'I', 'G', 'S', '1'};
inline constexpr char kTrailerMagic[8] = {'N', 'B', 'X', 'T', 'R', 'L', 'R', '1'};
// Domain separation for the signed message.
inline constexpr std::string_view kSignatureDomain = "nestbox image signature v1";

struct RegionDesc {
  Le64 offset;
  Le64 size;
  uint8_t sha256[kSha256Size];
};
static_assert(sizeof(RegionDesc) == 48);

struct Metadata {
  char magic[8];                 // kMetadataMagic
  Le32 format_version;           // kFormatVersion
  Le32 metadata_size;            // sizeof(Metadata)
  Le32 kind;                     // Kind
  Le32 flags;                    // MetadataFlags
  Le64 version;                  // monotonic; install refuses a lower one (--allow-downgrade)
  Le64 created;                  // int64 seconds (SOURCE_DATE_EPOCH)
  Le64 image_size;               // whole file, trailer included
  Le64 payload_size;             // squashfs bytes before padding / manifest bytes
  RegionDesc payload;            // offset 0
  RegionDesc verity;             // size 0 when absent
  RegionDesc policy;
  Le32 verity_hash_type;         // 1
  Le32 verity_data_block_size;   // 4096
  Le32 verity_hash_block_size;   // 4096
  Le32 verity_salt_size;         // kVeritySaltSize
  Le64 verity_data_blocks;       // payload.size / 4096
  uint8_t verity_root[kSha256Size];
  uint8_t verity_salt[kVeritySaltSize];
  uint8_t verity_uuid[16];       // the superblock's UUID
  char name[64];                 // NUL-padded strings, at least one NUL
  char version_string[64];
  char arch[32];
  char compat[128];
  // Additive field (issue 14): the rollback index, like AVB's. Was reserved
  // (zero), so every image signed before it has security_version 0 and is
  // byte-identical; a verifier that predates it refuses a non-zero value
  // ("reserved bytes not zero"): it fails closed instead of ignoring it.
  Le64 security_version;
  uint8_t reserved[424];         // zero
};
static_assert(offsetof(Metadata, payload) == 56);
static_assert(offsetof(Metadata, verity_hash_type) == 200);
static_assert(offsetof(Metadata, verity_root) == 224);
static_assert(offsetof(Metadata, name) == 304);
static_assert(offsetof(Metadata, security_version) == 592);
static_assert(offsetof(Metadata, reserved) == 600);
static_assert(sizeof(Metadata) == 1024);

struct SignatureBlockHeader {
  char magic[8];     // kSignaturesMagic
  Le32 count;        // 1..kMaxSignatures
  Le32 entry_size;   // sizeof(SignatureEntry)
};
static_assert(sizeof(SignatureBlockHeader) == 16);

struct SignatureEntry {
  uint8_t key_id[kSha256Size];  // SHA-256 of the DER SubjectPublicKeyInfo
  Le16 algorithm;               // SigAlgorithm
  Le16 signature_size;          // not signed
  uint8_t reserved[4];          // zero
  uint8_t signature[kMaxSignatureSize];  // not signed; zero after signature_size
};
static_assert(offsetof(SignatureEntry, signature_size) == 34);
static_assert(offsetof(SignatureEntry, signature) == 40);
static_assert(sizeof(SignatureEntry) == 552);

struct Trailer {
  char magic[8];           // kTrailerMagic
  Le32 format_version;     // kFormatVersion
  Le32 trailer_size;       // sizeof(Trailer)
  Le64 image_size;
  Le64 metadata_offset;
  Le64 metadata_size;
  Le64 signatures_offset;
  Le64 signatures_size;
  uint8_t metadata_sha256[kSha256Size];
  uint8_t reserved[8];     // zero
  uint8_t trailer_sha256[kSha256Size];  // SHA-256 of the 96 bytes before it
};
static_assert(offsetof(Trailer, metadata_sha256) == 56);
static_assert(offsetof(Trailer, trailer_sha256) == 96);
static_assert(sizeof(Trailer) == 128);

inline constexpr uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Region names used in every error message ("squashfs: sha256 mismatch").
inline constexpr const char* kRegionSquashfs = "squashfs";
inline constexpr const char* kRegionManifest = "tree manifest";
inline constexpr const char* kRegionVerity = "verity";
inline constexpr const char* kRegionPolicy = "policy";
inline constexpr const char* kRegionMetadata = "metadata";
inline constexpr const char* kRegionSignatures = "signatures";
inline constexpr const char* kRegionTrailer = "trailer";

// Structural checks of untrusted bytes; errors name the region and field.
// `file_size` is the size of the whole file.
Status check_trailer(const Trailer& t, uint64_t file_size);
Status check_metadata(const Metadata& m, const Trailer& t);
// `block` holds exactly trailer.signatures_size bytes.
Status check_signature_block(std::string_view block);

// A NUL-padded fixed string field as a std::string (up to the first NUL).
template <size_t N>
std::string field_string(const char (&f)[N]) {
  size_t n = 0;
  while (n < N && f[n] != '\0') ++n;
  return std::string(f, n);
}

// The 32-byte digest every signature signs:
// SHA-256(domain || metadata || signature block with every signature_size and
// signature field zeroed || trailer). Everything but the signature bytes.
Result<std::string> signed_digest(std::string_view metadata, std::string_view signature_block,
                                  std::string_view trailer);

// SHA-256 of the trailer's first 96 bytes (its self-check).
std::string trailer_self_digest(const Trailer& t);

}  // namespace nestbox::image
