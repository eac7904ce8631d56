// verify_image: trailer -> metadata -> signatures -> regions, one pass over
// the file, fixed-size buffers only. Format: docs/image-format.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "util/fd.h"
#include "util/open_regular.h"
#include "verifier/crypto.h"
#include "verifier/image_format.h"
#include "verifier/keyring.h"
#include "verifier/verifier.h"

namespace nestbox::verifier {

namespace {

using namespace nestbox::image;

constexpr size_t kReadBuffer = 128 * 1024;

Status pread_all(int fd, void* buf, size_t size, uint64_t offset, const char* region) {
  char* p = static_cast<char*>(buf);
  while (size > 0) {
    ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(std::string(region) + ": read");
    if (n == 0) return bad_input(std::string(region) + ": unexpected end of file");
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return ok_status();
}

std::string_view raw(const uint8_t* p, size_t n) { return {reinterpret_cast<const char*>(p), n}; }

// Checks the signature entries against the keyring; returns the verified ids.
Result<std::vector<std::string>> check_signatures(std::string_view metadata, std::string_view sigblock,
                                                  std::string_view trailer, const TrustedKeys& keys) {
  auto digest = signed_digest(metadata, sigblock, trailer);
  if (!digest.ok()) return std::move(digest).error();
  SignatureBlockHeader h;
  std::memcpy(&h, sigblock.data(), sizeof h);
  std::vector<std::string> verified;
  std::string seen;
  for (uint64_t i = 0; i < h.count.get(); ++i) {
    SignatureEntry e;
    std::memcpy(&e, sigblock.data() + sizeof h + i * sizeof e, sizeof e);
    std::string id = crypto::to_hex(raw(e.key_id, sizeof e.key_id));
    std::string where = "signature " + std::to_string(i) + " (key " + id + ")";
    if (keys.revoked(id)) {
      seen += (seen.empty() ? "" : ", ") + id + " revoked";
      continue;
    }
    auto alg = static_cast<SigAlgorithm>(e.algorithm.get());
    const crypto::PublicKey* key = keys.find(id);
    if (!key) {
      // A backend without the algorithm (mbedTLS: Ed25519) never accepts the
      // signature; its keyring refused such keys already. Said by name, so a
      // device built with that backend tells why an Ed25519-signed image fails.
      if (!crypto::algorithm_supported(alg))
        seen += (seen.empty() ? "" : ", ") + id + " " + crypto::algorithm_name(alg) + " not supported by the " +
                crypto::backend_name() + " backend";
      else
        seen += (seen.empty() ? "" : ", ") + id + " untrusted";
      continue;
    }
    // An entry naming a trusted key is checked whatever its algorithm: one the
    // backend lacks fails like one that does not match the key, so a second,
    // failing signature by a trusted key rejects the image under either backend
    // (mbedTLS used to skip it where libcrypto refused).
    Status st = crypto::verify_signature(*key, alg, *digest, raw(e.signature, e.signature_size.get()));
    if (!st.ok()) return st.error().context(std::string(kRegionSignatures) + ": " + where);
    verified.push_back(id);
  }
  if (verified.empty())
    return failure(std::string(kRegionSignatures) +
                     ": no signature by a trusted, non-revoked key (" + seen + ")");
  return verified;
}

// Streams [0, end) once, hashing each region, and compares with the metadata.
Status hash_regions(int fd, const Metadata& m, const char* payload_name, std::string* policy) {
  struct Region {
    const char* name;
    const RegionDesc* desc;
  } regions[] = {{payload_name, &m.payload}, {kRegionVerity, &m.verity}, {kRegionPolicy, &m.policy}};
  std::unique_ptr<char[]> buf(new char[kReadBuffer]);
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (::lseek(fd, 0, SEEK_SET) != 0) return sys_error("seek");
  for (const Region& r : regions) {
    uint64_t left = r.desc->size.get();
    bool keep = r.desc == &m.policy;
    if (keep) policy->reserve(left);
    crypto::Sha256 h;
    while (left > 0) {
      size_t want = left < kReadBuffer ? static_cast<size_t>(left) : kReadBuffer;
      ssize_t n = ::read(fd, buf.get(), want);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error(std::string(r.name) + ": read");
      if (n == 0) return bad_input(std::string(r.name) + ": unexpected end of file");
      h.update(buf.get(), static_cast<size_t>(n));
      if (keep) policy->append(buf.get(), static_cast<size_t>(n));
      left -= static_cast<uint64_t>(n);
    }
    if (r.desc->size.get() == 0) continue;
    std::string d = h.finish();
    if (!h.ok()) return failure(std::string(r.name) + ": sha256: " + crypto::last_error());
    if (d != raw(r.desc->sha256, kSha256Size)) return failure(std::string(r.name) + ": sha256 mismatch");
  }
  return ok_status();
}

Status read_policy(int fd, const Metadata& m, std::string* policy) {
  policy->resize(m.policy.size.get());
  NESTBOX_TRY(pread_all(fd, policy->data(), policy->size(), m.policy.offset.get(), kRegionPolicy));
  if (m.policy.size.get() > 0 && crypto::sha256(*policy) != raw(m.policy.sha256, kSha256Size))
    return failure(std::string(kRegionPolicy) + ": sha256 mismatch");
  return ok_status();
}

ImageInfo info_from(const Metadata& m) {
  ImageInfo info;
  info.name = field_string(m.name);
  info.version = m.version.get();
  info.security_version = m.security_version.get();
  info.version_string = field_string(m.version_string);
  info.arch = field_string(m.arch);
  info.compat = field_string(m.compat);
  info.created = static_cast<int64_t>(m.created.get());
  info.squashfs_offset = m.payload.offset.get();
  info.squashfs_size = m.payload.size.get();
  info.payload_size = m.payload_size.get();
  info.payload_sha256_hex = crypto::to_hex(raw(m.payload.sha256, kSha256Size));
  info.tree_manifest = m.kind.get() == static_cast<uint32_t>(Kind::kTreeManifest);
  info.image_size = m.image_size.get();
  if (m.flags.get() & kHasVerity) {
    info.verity_offset = m.verity.offset.get();
    info.verity_size = m.verity.size.get();
    info.verity_root_hex = crypto::to_hex(raw(m.verity_root, kSha256Size));
    info.verity_salt_hex = crypto::to_hex(raw(m.verity_salt, m.verity_salt_size.get()));
    info.verity_data_blocks = m.verity_data_blocks.get();
    info.verity_hash_type = static_cast<uint32_t>(m.verity_hash_type.get());
    info.verity_data_block_size = static_cast<uint32_t>(m.verity_data_block_size.get());
    info.verity_hash_block_size = static_cast<uint32_t>(m.verity_hash_block_size.get());
  }
  return info;
}

// The checks every mode shares: trailer, metadata, signatures. Fills `m`.
Result<ImageInfo> check_signed(int fd, const Keyring& keyring, Metadata* m) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return sys_error("stat");
  if (!S_ISREG(st.st_mode)) return bad_input("not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < sizeof(Trailer)) return bad_input(std::string(kRegionTrailer) + ": file too small");

  Trailer t;
  NESTBOX_TRY(pread_all(fd, &t, sizeof t, size - sizeof t, kRegionTrailer));
  NESTBOX_TRY(check_trailer(t, size));

  // Metadata and signature block: one small read (at most ~10 KiB).
  std::string tail(t.signatures_offset.get() + t.signatures_size.get() - t.metadata_offset.get(), '\0');
  NESTBOX_TRY(pread_all(fd, tail.data(), tail.size(), t.metadata_offset.get(), kRegionMetadata));
  std::string_view meta_bytes(tail.data(), sizeof(Metadata));
  std::string_view sig_bytes(tail.data() + sizeof(Metadata), t.signatures_size.get());
  if (crypto::sha256(meta_bytes) != raw(t.metadata_sha256, kSha256Size))
    return failure(std::string(kRegionMetadata) + ": sha256 mismatch");
  std::memcpy(m, meta_bytes.data(), sizeof *m);
  NESTBOX_TRY(check_metadata(*m, t));
  NESTBOX_TRY(check_signature_block(sig_bytes));

  auto keys = TrustedKeys::load(keyring);
  if (!keys.ok()) return std::move(keys).error().context("keyring");
  auto verified = check_signatures(meta_bytes, sig_bytes, raw(reinterpret_cast<const uint8_t*>(&t), sizeof t), *keys);
  if (!verified.ok()) return std::move(verified).error();

  ImageInfo info = info_from(*m);
  info.signer_key_id = verified->front();
  info.signer_key_ids = std::move(*verified);
  return info;
}

}  // namespace

Result<UniqueFd> open_image(const std::string& path) { return open_image_at(AT_FDCWD, path); }

Result<UniqueFd> open_image_at(int dir_fd, const std::string& name) {
  // A FIFO, a device or a symlink is refused without being opened
  // (util/open_regular.h): no wait for a writer, no driver's open.
  auto fd = open_regular_at(dir_fd, name, O_RDONLY | O_NONBLOCK);
  if (!fd.ok() && fd.error().sys_errno == ELOOP)
    return bad_input("a symbolic link: refused (open it by its real path)");
  return fd;
}

namespace {

// Filesystems whose bytes come from a process or a remote host rather than
// from this kernel's own storage: owner and mode say nothing about who can
// change what the loop device reads next, and the server may answer the
// verifier's read and the kernel's later read differently.
const char* served_filesystem(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return "an unknown filesystem";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0x65735546: return "FUSE";  // also fuseblk
    case 0x6969: return "NFS";
    case 0xFF534D42: return "CIFS";
    case 0xFE534D42: return "SMB2";
    case 0x517B: return "SMB";
    case 0x01021997: return "9P";
    case 0x00C36400: return "Ceph";
    case 0x6B414653: return "AFS";
    case 0x73757245: return "Coda";
    default: return nullptr;
  }
}

}  // namespace

// Owner and mode say who may open the inode for writing from now on, not
// who holds it open for writing already: a descriptor (or a shared writable
// mapping) opened while the file was still the user's, or group-writable,
// survives a chown or chmod and writes after verification. The kernel grants
// a read lease only when no descriptor anywhere has the inode open for
// writing; the lease is dropped at once (only root can open it for writing
// from here on, and root is outside the model).
Status check_no_writer(int fd) {
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) != 0) {
    if (errno == EAGAIN || errno == EBUSY)
      return failure("open for writing by a process, which could change it after verification");
    return failure(std::string("cannot tell whether a process holds it open for writing (read lease: ") +
                   std::strerror(errno) + "): refused");
  }
  (void)::fcntl(fd, F_SETLEASE, F_UNLCK);
  return ok_status();
}

Status check_only_root_writes(int fd) {
  if (const char* fs = served_filesystem(fd))
    return failure(std::string("on ") + fs + ", whose contents a process or remote host serves and can change after "
                   "verification; only an image on local storage is mounted (or install it)");
  struct stat st;
  if (::fstat(fd, &st) != 0) return sys_error("stat");
  if (st.st_uid != 0)
    return failure("owned by uid " + std::to_string(st.st_uid) +
                   ", who could change it after verification; only a root-owned image is mounted (or install it)");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return failure(std::string("writable by group or others (mode ") + mode +
                   "), who could change it after verification; only an image that only root can write is mounted "
                   "(or install it)");
  }
  if (S_ISREG(st.st_mode))
    if (Status held = check_no_writer(fd); !held.ok())
      return failure(held.error().message + "; only an image nobody holds open for writing is mounted (or install it)");
  return ok_status();
}

Result<ImageInfo> verify_image_fd(int fd, const Keyring& keyring, Mode mode) {
  Metadata m;
  auto info = check_signed(fd, keyring, &m);
  if (!info.ok()) return info;
  if (mode == Mode::kVerity && !(m.flags.get() & kHasVerity))
    return bad_input(std::string(kRegionMetadata) + ": verity mode requested but the image has no hash tree");
  const char* payload = info->tree_manifest ? kRegionManifest : kRegionSquashfs;
  bool tree = m.flags.get() & kHasVerity;
  if (mode == Mode::kFull || (mode == Mode::kAuto && !tree)) {
    NESTBOX_TRY(hash_regions(fd, m, payload, &info->policy));
    info->data_verified = true;
  } else {  // no payload byte read: dm-verity checks each block on read
    NESTBOX_TRY(read_policy(fd, m, &info->policy));
  }
  return info;
}

Result<ImageInfo> verify_signed_metadata(int fd, const Keyring& keyring) {
  Metadata m;
  return check_signed(fd, keyring, &m);
}

Result<dm::VerityParams> verity_params(const ImageInfo& info) {
  if (info.verity_size == 0 || info.tree_manifest || info.verity_offset < info.squashfs_offset)
    return failure("no dm-verity hash tree");
  dm::VerityParams v;
  v.data_blocks = info.verity_data_blocks;
  v.data_block_size = info.verity_data_block_size;
  v.hash_block_size = info.verity_hash_block_size;
  v.hash_type = info.verity_hash_type;
  v.hash_offset = info.verity_offset - info.squashfs_offset;
  v.root_hex = info.verity_root_hex;
  v.salt_hex = info.verity_salt_hex;
  // The dm device exposes exactly the signed data blocks: the squashfs window.
  if (v.data_blocks * v.data_block_size != info.squashfs_size)
    return failure("verity data blocks do not cover the squashfs window");
  return v;
}

Result<VerifiedFile> open_verified(const std::string& path, const Keyring& keyring, Mode mode) {
  auto fd = open_image(path);
  if (!fd.ok()) return std::move(fd).error().context("verify " + path);
  auto info = verify_image_fd(fd->get(), keyring, mode);
  if (!info.ok()) return std::move(info).error().context("verify " + path);
  return VerifiedFile{std::move(*fd), std::move(*info)};
}

Result<VerifiedFile> open_verified_to_mount(const std::string& path, const Keyring& keyring, Mode mode) {
  auto fd = open_image(path);
  if (!fd.ok()) return std::move(fd).error().context("verify " + path);
  // Before the first byte is hashed: checked after, a writer could change a
  // region already hashed and close its descriptor in between.
  NESTBOX_TRY_CTX(check_only_root_writes(fd->get()), path);
  auto info = verify_image_fd(fd->get(), keyring, mode);
  if (!info.ok()) return std::move(info).error().context("verify " + path);
  return VerifiedFile{std::move(*fd), std::move(*info)};
}

Result<ImageInfo> verify_image(const std::string& path, const Keyring& keyring, Mode mode) {
  auto v = open_verified(path, keyring, mode);
  if (!v.ok()) return std::move(v).error();
  return std::move(v->info);
}

}  // namespace nestbox::verifier
