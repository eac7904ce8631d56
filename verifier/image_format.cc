#include "verifier/image_format.h"

#include <cstring>

#include "verifier/crypto.h"

namespace nestbox::image {

namespace {

Error region_error(const char* region, const std::string& what) {
  return bad_input(std::string(region) + ": " + what);
}

template <size_t N>
bool all_zero(const uint8_t (&b)[N]) {
  for (uint8_t c : b)
    if (c != 0) return false;
  return true;
}

// A NUL-padded string: printable ASCII, then only NULs; `need_value` rejects "".
template <size_t N>
Status check_string(const char (&f)[N], const char* field, bool need_value) {
  size_t n = 0;
  while (n < N && f[n] != '\0') {
    unsigned char c = static_cast<unsigned char>(f[n]);
    if (c < 0x20 || c > 0x7e)
      return region_error(kRegionMetadata, std::string(field) + ": non-printable byte");
    ++n;
  }
  if (n == N) return region_error(kRegionMetadata, std::string(field) + ": not NUL-terminated");
  for (size_t i = n; i < N; ++i)
    if (f[i] != '\0') return region_error(kRegionMetadata, std::string(field) + ": bytes after NUL");
  if (need_value && n == 0) return region_error(kRegionMetadata, std::string(field) + ": empty");
  return ok_status();
}

}  // namespace

std::string trailer_self_digest(const Trailer& t) {
  return crypto::sha256(std::string_view(reinterpret_cast<const char*>(&t), offsetof(Trailer, trailer_sha256)));
}

Status check_trailer(const Trailer& t, uint64_t file_size) {
  if (std::memcmp(t.magic, kTrailerMagic, sizeof t.magic) != 0)
    return region_error(kRegionTrailer, "bad magic (not a nestbox image, or truncated/appended)");
  if (trailer_self_digest(t) != std::string_view(reinterpret_cast<const char*>(t.trailer_sha256), kSha256Size))
    return region_error(kRegionTrailer, "checksum mismatch");
  if (t.format_version.get() != kFormatVersion)
    return region_error(kRegionTrailer, "unsupported format version " + std::to_string(t.format_version.get()));
  if (t.trailer_size.get() != sizeof(Trailer)) return region_error(kRegionTrailer, "bad trailer size");
  if (t.image_size.get() != file_size)
    return region_error(kRegionTrailer, "image size " + std::to_string(t.image_size.get()) +
                                            " but the file has " + std::to_string(file_size) +
                                            " bytes (truncated or appended)");
  if (!all_zero(t.reserved)) return region_error(kRegionTrailer, "reserved bytes not zero");
  if (t.metadata_size.get() != sizeof(Metadata)) return region_error(kRegionTrailer, "bad metadata size");
  uint64_t sig_size = t.signatures_size.get();
  if (sig_size < sizeof(SignatureBlockHeader) + sizeof(SignatureEntry) ||
      sig_size > sizeof(SignatureBlockHeader) + kMaxSignatures * sizeof(SignatureEntry))
    return region_error(kRegionTrailer, "bad signature block size");
  uint64_t meta_off = t.metadata_offset.get(), sig_off = t.signatures_offset.get();
  if (file_size < sizeof(Trailer) + sig_size + sizeof(Metadata))
    return region_error(kRegionTrailer, "file too small for its regions");
  if (sig_off != file_size - sizeof(Trailer) - sig_size || meta_off != sig_off - sizeof(Metadata))
    return region_error(kRegionTrailer, "regions not contiguous");
  return ok_status();
}

Status check_metadata(const Metadata& m, const Trailer& t) {
  if (std::memcmp(m.magic, kMetadataMagic, sizeof m.magic) != 0) return region_error(kRegionMetadata, "bad magic");
  if (m.format_version.get() != kFormatVersion) return region_error(kRegionMetadata, "unsupported format version");
  if (m.metadata_size.get() != sizeof(Metadata)) return region_error(kRegionMetadata, "bad size");
  if (m.image_size.get() != t.image_size.get()) return region_error(kRegionMetadata, "image size disagrees with trailer");
  uint64_t kind = m.kind.get();
  if (kind != static_cast<uint32_t>(Kind::kSquashfs) && kind != static_cast<uint32_t>(Kind::kTreeManifest))
    return region_error(kRegionMetadata, "unknown kind " + std::to_string(kind));
  uint64_t flags = m.flags.get();
  if (flags & ~uint64_t{kHasVerity}) return region_error(kRegionMetadata, "unknown flags");
  bool squashfs = kind == static_cast<uint32_t>(Kind::kSquashfs);
  uint64_t psize = m.payload_size.get(), pregion = m.payload.size.get();
  if (m.payload.offset.get() != 0) return region_error(kRegionMetadata, "payload not at offset 0");
  // Checked before aligning: align_up wraps to 0 for a size within a block
  // of 2^64, and a payload region of 0 would then pass as its aligned size.
  if (psize > t.metadata_offset.get()) return region_error(kRegionMetadata, "payload larger than the file");
  if (squashfs ? (pregion != align_up(psize, kBlockSize) || psize == 0) : pregion != psize)
    return region_error(kRegionMetadata, "payload size inconsistent");
  uint64_t voff = m.verity.offset.get(), vsize = m.verity.size.get();
  uint64_t meta_off = t.metadata_offset.get();
  if (voff != pregion) return region_error(kRegionMetadata, "verity offset inconsistent");
  // Bounds before any addition, so no sum below can wrap.
  if (pregion > meta_off || vsize > meta_off - voff || m.policy.size.get() > meta_off)
    return region_error(kRegionMetadata, "regions larger than the file");
  bool verity = flags & kHasVerity;
  if (verity) {
    if (!squashfs) return region_error(kRegionMetadata, "verity on a tree manifest");
    if (vsize == 0 || vsize % kBlockSize != 0) return region_error(kRegionMetadata, "bad verity size");
    if (m.verity_hash_type.get() != 1 || m.verity_data_block_size.get() != kBlockSize ||
        m.verity_hash_block_size.get() != kBlockSize || m.verity_salt_size.get() != kVeritySaltSize ||
        m.verity_data_blocks.get() != pregion / kBlockSize)
      return region_error(kRegionMetadata, "unsupported verity parameters");
  } else {
    if (vsize != 0 || m.verity_hash_type.get() || m.verity_data_block_size.get() ||
        m.verity_hash_block_size.get() || m.verity_salt_size.get() || m.verity_data_blocks.get() ||
        !all_zero(m.verity_root) || !all_zero(m.verity_salt) || !all_zero(m.verity_uuid) ||
        !all_zero(m.verity.sha256))
      return region_error(kRegionMetadata, "verity fields set without verity");
  }
  if (m.policy.offset.get() != voff + vsize) return region_error(kRegionMetadata, "policy offset inconsistent");
  if (m.policy.size.get() > kMaxPolicySize) return region_error(kRegionMetadata, "policy too large");
  if (m.policy.offset.get() + m.policy.size.get() != t.metadata_offset.get())
    return region_error(kRegionMetadata, "regions do not end at the metadata block");
  NESTBOX_TRY(check_string(m.name, "name", true));
  NESTBOX_TRY(check_string(m.version_string, "version string", true));
  NESTBOX_TRY(check_string(m.arch, "arch", true));
  NESTBOX_TRY(check_string(m.compat, "compat", false));
  if (!all_zero(m.reserved)) return region_error(kRegionMetadata, "reserved bytes not zero");
  return ok_status();
}

Status check_signature_block(std::string_view block) {
  if (block.size() < sizeof(SignatureBlockHeader)) return region_error(kRegionSignatures, "too small");
  SignatureBlockHeader h;
  std::memcpy(&h, block.data(), sizeof h);
  if (std::memcmp(h.magic, kSignaturesMagic, sizeof h.magic) != 0) return region_error(kRegionSignatures, "bad magic");
  uint64_t count = h.count.get();
  if (count == 0 || count > kMaxSignatures) return region_error(kRegionSignatures, "bad signature count");
  if (h.entry_size.get() != sizeof(SignatureEntry)) return region_error(kRegionSignatures, "bad entry size");
  if (block.size() != sizeof h + count * sizeof(SignatureEntry)) return region_error(kRegionSignatures, "size disagrees with count");
  for (uint64_t i = 0; i < count; ++i) {
    SignatureEntry e;
    std::memcpy(&e, block.data() + sizeof h + i * sizeof e, sizeof e);
    std::string where = "signature " + std::to_string(i);
    uint64_t alg = e.algorithm.get();
    if (alg < 1 || alg > 3) return region_error(kRegionSignatures, where + ": unknown algorithm");
    uint64_t n = e.signature_size.get();
    if (n == 0 || n > kMaxSignatureSize) return region_error(kRegionSignatures, where + ": bad signature size");
    if (!all_zero(e.reserved)) return region_error(kRegionSignatures, where + ": reserved bytes not zero");
    for (size_t j = n; j < kMaxSignatureSize; ++j)
      if (e.signature[j] != 0) return region_error(kRegionSignatures, where + ": bytes after the signature");
  }
  return ok_status();
}

Result<std::string> signed_digest(std::string_view metadata, std::string_view signature_block,
                                  std::string_view trailer) {
  crypto::Sha256 h;
  h.update(kSignatureDomain.data(), kSignatureDomain.size());
  h.update(metadata.data(), metadata.size());
  if (signature_block.size() >= sizeof(SignatureBlockHeader)) {
    h.update(signature_block.data(), sizeof(SignatureBlockHeader));
    for (size_t off = sizeof(SignatureBlockHeader); off + sizeof(SignatureEntry) <= signature_block.size();
         off += sizeof(SignatureEntry)) {
      SignatureEntry e;
      std::memcpy(&e, signature_block.data() + off, sizeof e);
      e.signature_size.set(0);
      std::memset(e.signature, 0, sizeof e.signature);
      h.update(&e, sizeof e);
    }
  }
  h.update(trailer.data(), trailer.size());
  std::string d = h.finish();
  if (!h.ok()) return failure("sha256: " + crypto::last_error());
  return d;
}

}  // namespace nestbox::image
