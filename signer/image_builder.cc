#include "signer/image_builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#include "signer/keys.h"
#include "signer/verity_tree.h"
#include "util/fd.h"
#include "util/file_io.h"
#include "verifier/crypto.h"
#include "util/temp_path.h"

namespace nestbox::signer {

namespace {

using namespace nestbox::image;

template <size_t N>
Status set_string(char (&field)[N], const std::string& value, const char* what, bool need_value) {
  if (need_value && value.empty()) return bad_input(std::string(what) + ": must not be empty");
  if (value.size() >= N) return bad_input(std::string(what) + ": longer than " + std::to_string(N - 1) + " bytes");
  for (char c : value)
    if (c < 0x20 || c > 0x7e) return bad_input(std::string(what) + ": only printable ASCII allowed");
  std::memset(field, 0, N);
  std::memcpy(field, value.data(), value.size());
  return ok_status();
}

void set_digest(uint8_t (&field)[kSha256Size], const std::string& d) { std::memcpy(field, d.data(), kSha256Size); }

// Copies `in` to `out` (hashing), then pads with zeros to `padded` bytes.
Result<std::string> copy_payload(int in, int out, uint64_t size, uint64_t padded, const std::string& what,
                                 const std::function<void(uint64_t)>& copied) {
  crypto::Sha256 h;
  std::vector<char> buf(1 << 20);
  uint64_t left = size;
  while (left > 0) {
    ssize_t n = ::read(in, buf.data(), std::min<uint64_t>(buf.size(), left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + what);
    if (n == 0) return failure(what + ": file shrank while reading");
    h.update(buf.data(), static_cast<size_t>(n));
    NESTBOX_TRY(write_all(out, buf.data(), static_cast<size_t>(n), "image"));
    left -= static_cast<uint64_t>(n);
    copied(static_cast<uint64_t>(n));
  }
  std::string pad(padded - size, '\0');
  h.update(pad.data(), pad.size());
  NESTBOX_TRY(write_all(out, pad.data(), pad.size(), "image"));
  std::string d = h.finish();
  if (!h.ok()) return failure("sha256: " + crypto::last_error());
  return d;
}

struct Signer {
  crypto::ossl::Pkey key;
  SigAlgorithm alg;
  std::string id;  // raw
};

Result<std::vector<Signer>> load_signers(const std::vector<std::string>& uris) {
  if (uris.empty()) return bad_input("no signing key given");
  if (uris.size() > kMaxSignatures) return bad_input("more than 16 signing keys");
  std::vector<Signer> out;
  for (const std::string& uri : uris) {
    auto key = load_private_key(uri);
    if (!key.ok()) return std::move(key).error();
    auto alg = crypto::ossl::algorithm_for_key(key->get());
    if (!alg.ok()) return std::move(alg).error().context("key " + uri);
    auto id = crypto::ossl::key_id(key->get());
    if (!id.ok()) return std::move(id).error().context("key " + uri);
    for (const Signer& s : out)
      if (s.id == *id) return bad_input("key " + uri + ": the same key is given twice");
    out.push_back(Signer{std::move(*key), *alg, *id});
  }
  return out;
}

}  // namespace

Result<BuiltImage> build_image(const ImageSpec& spec, const std::string& out_path) {
  Metadata m;
  std::memset(&m, 0, sizeof m);
  NESTBOX_TRY(set_string(m.name, spec.name, "name", true));
  NESTBOX_TRY(set_string(m.version_string, spec.version_string, "version string", true));
  NESTBOX_TRY(set_string(m.arch, spec.arch, "arch", true));
  NESTBOX_TRY(set_string(m.compat, spec.compat, "compat", false));
  if (spec.policy.size() > kMaxPolicySize) return bad_input("policy larger than 256 KiB");
  bool squashfs = spec.kind == Kind::kSquashfs;
  bool verity = squashfs && spec.verity;
  if (!spec.verity_salt.empty() && spec.verity_salt.size() != kVeritySaltSize)
    return bad_input("verity salt: expected 32 bytes");
  int64_t created = spec.created ? *spec.created : static_cast<int64_t>(std::time(nullptr));
  auto signers = load_signers(spec.key_uris);
  if (!signers.ok()) return std::move(signers).error();

  UniqueFd in(::open(spec.payload_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return sys_error("open " + spec.payload_path);
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return sys_error("stat " + spec.payload_path);
  if (!S_ISREG(st.st_mode)) return bad_input(spec.payload_path + ": not a regular file");
  uint64_t payload_size = static_cast<uint64_t>(st.st_size);
  if (squashfs) {
    char magic[4] = {};
    if (payload_size < 96 || ::pread(in.get(), magic, 4, 0) != 4 || std::memcmp(magic, "hsqs", 4) != 0)
      return bad_input(spec.payload_path + ": not a squashfs image (expected magic 'hsqs' at offset 0)");
  }
  uint64_t payload_region = squashfs ? align_up(payload_size, kBlockSize) : payload_size;

  TempFile tmp(out_path + ".tmp." + std::to_string(::getpid()));
  UniqueFd out(::open(tmp.path().c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out) return sys_error("create " + tmp.path());
  // Progress: the payload once, and again for the verity tree.
  uint64_t work_total = payload_size + (verity ? payload_region : 0), work_done = 0;
  auto advanced = [&](uint64_t bytes) {
    work_done += bytes;
    if (spec.progress) spec.progress(work_done, work_total);
  };
  auto payload_digest = copy_payload(in.get(), out.get(), payload_size, payload_region, spec.payload_path, advanced);
  if (!payload_digest.ok()) return std::move(payload_digest).error();

  m.format_version.set(kFormatVersion);
  m.metadata_size.set(sizeof m);
  std::memcpy(m.magic, kMetadataMagic, sizeof m.magic);
  m.kind.set(static_cast<uint32_t>(spec.kind));
  m.version.set(spec.version);
  m.security_version.set(spec.security_version);
  m.created.set(static_cast<uint64_t>(created));
  m.payload_size.set(payload_size);
  m.payload.offset.set(0);
  m.payload.size.set(payload_region);
  set_digest(m.payload.sha256, *payload_digest);
  m.verity.offset.set(payload_region);

  BuiltImage built;
  uint64_t pos = payload_region;
  if (verity) {
    std::string salt = spec.verity_salt;
    if (salt.empty()) salt = crypto::sha256("nestbox verity salt v1" + *payload_digest);
    std::string uuid = crypto::sha256("nestbox verity uuid v1" + salt).substr(0, 16);
    uuid[6] = static_cast<char>((uuid[6] & 0x0f) | 0x40);  // RFC 4122 version 4 layout
    uuid[8] = static_cast<char>((uuid[8] & 0x3f) | 0x80);
    auto tree = build_verity_tree(out.get(), payload_region, salt, uuid, advanced);
    if (!tree.ok()) return std::move(tree).error();
    NESTBOX_TRY(write_all(out.get(), tree->region.data(), tree->region.size(), "image"));
    m.flags.set(kHasVerity);
    m.verity.size.set(tree->region.size());
    set_digest(m.verity.sha256, crypto::sha256(tree->region));
    m.verity_hash_type.set(1);
    m.verity_data_block_size.set(kBlockSize);
    m.verity_hash_block_size.set(kBlockSize);
    m.verity_salt_size.set(kVeritySaltSize);
    m.verity_data_blocks.set(tree->data_blocks);
    set_digest(m.verity_root, tree->root);
    std::memcpy(m.verity_salt, salt.data(), kVeritySaltSize);
    std::memcpy(m.verity_uuid, uuid.data(), 16);
    pos += tree->region.size();
    built.verity_root_hex = crypto::to_hex(tree->root);
    built.verity_salt_hex = crypto::to_hex(salt);
  }

  m.policy.offset.set(pos);
  m.policy.size.set(spec.policy.size());
  if (!spec.policy.empty()) set_digest(m.policy.sha256, crypto::sha256(spec.policy));
  NESTBOX_TRY(write_all(out.get(), spec.policy.data(), spec.policy.size(), "image"));
  pos += spec.policy.size();

  uint64_t sig_size = sizeof(SignatureBlockHeader) + signers->size() * sizeof(SignatureEntry);
  uint64_t total = pos + sizeof(Metadata) + sig_size + sizeof(Trailer);
  m.image_size.set(total);

  Trailer t;
  std::memset(&t, 0, sizeof t);
  std::memcpy(t.magic, kTrailerMagic, sizeof t.magic);
  t.format_version.set(kFormatVersion);
  t.trailer_size.set(sizeof t);
  t.image_size.set(total);
  t.metadata_offset.set(pos);
  t.metadata_size.set(sizeof m);
  t.signatures_offset.set(pos + sizeof m);
  t.signatures_size.set(sig_size);
  std::string meta_bytes(reinterpret_cast<const char*>(&m), sizeof m);
  set_digest(t.metadata_sha256, crypto::sha256(meta_bytes));
  set_digest(t.trailer_sha256, trailer_self_digest(t));
  std::string trailer_bytes(reinterpret_cast<const char*>(&t), sizeof t);

  std::string sigblock(sig_size, '\0');
  SignatureBlockHeader h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, kSignaturesMagic, sizeof h.magic);
  h.count.set(signers->size());
  h.entry_size.set(sizeof(SignatureEntry));
  std::memcpy(sigblock.data(), &h, sizeof h);
  for (size_t i = 0; i < signers->size(); ++i) {
    SignatureEntry e;
    std::memset(&e, 0, sizeof e);
    std::memcpy(e.key_id, (*signers)[i].id.data(), kSha256Size);
    e.algorithm.set(static_cast<uint16_t>((*signers)[i].alg));
    std::memcpy(sigblock.data() + sizeof h + i * sizeof e, &e, sizeof e);
  }
  auto digest = signed_digest(meta_bytes, sigblock, trailer_bytes);
  if (!digest.ok()) return std::move(digest).error();
  for (size_t i = 0; i < signers->size(); ++i) {
    const Signer& s = (*signers)[i];
    auto sig = sign(s.key.get(), s.alg, *digest);
    if (!sig.ok()) return std::move(sig).error().context("sign with " + spec.key_uris[i]);
    SignatureEntry e;
    char* slot = sigblock.data() + sizeof h + i * sizeof e;
    std::memcpy(&e, slot, sizeof e);
    e.signature_size.set(sig->size());
    std::memcpy(e.signature, sig->data(), sig->size());
    std::memcpy(slot, &e, sizeof e);
    built.key_ids.push_back(crypto::to_hex(s.id));
  }

  NESTBOX_TRY(write_all(out.get(), meta_bytes.data(), meta_bytes.size(), "image"));
  NESTBOX_TRY(write_all(out.get(), sigblock.data(), sigblock.size(), "image"));
  NESTBOX_TRY(write_all(out.get(), trailer_bytes.data(), trailer_bytes.size(), "image"));
  if (::fsync(out.get()) != 0) return sys_error("fsync " + tmp.path());
  out.reset();
  if (::rename(tmp.path().c_str(), out_path.c_str()) != 0)
    return sys_error("rename " + tmp.path() + " to " + out_path);
  tmp.keep();
  built.size = total;
  return built;
}

}  // namespace nestbox::signer
