#include "verifier/verifier.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "tests/signer/fixture.h"
#include "verifier/crypto.h"
#include "verifier/image_format.h"
#include "verifier/keyring.h"
#include "verifier/rollback_state.h"

namespace nestbox {
namespace {

using testing::KeyPair;
using testing::slurp;
using testing::spit;
using testing::TempDir;
using verifier::Keyring;
using verifier::Mode;

Result<verifier::ImageInfo> verify(const std::string& img, const std::string& ring, Mode mode = Mode::kFull,
                                   std::vector<std::string> revoked = {}) {
  return verifier::verify_image(img, Keyring{ring, std::move(revoked)}, mode);
}

std::string message_of(const Result<verifier::ImageInfo>& r) { return r.ok() ? "accepted" : r.error().message; }

TEST(Verifier, EveryKeyTypeSignsAndVerifiesInBothModes) {
  TempDir dir;
  std::string sqfs = testing::make_squashfs(dir, "a", 1, 3, 10000);
  for (auto type : {signer::KeyType::kEd25519, signer::KeyType::kEcdsaP256, signer::KeyType::kRsa3072}) {
    KeyPair k = testing::make_key(dir, "k" + std::to_string(static_cast<int>(type)), type);
    std::string img = dir / "a.img";
    auto built = signer::build_image(testing::spec_for(sqfs, {k}), img);
    ASSERT_TRUE(built.ok()) << built.error().message;
    std::string ring = testing::make_keyring(dir, "ring" + std::to_string(static_cast<int>(type)), {k});
    for (Mode mode : {Mode::kFull, Mode::kVerity}) {
      auto info = verify(img, ring, mode);
      ASSERT_TRUE(info.ok()) << info.error().message;
      EXPECT_EQ(info->name, "demo");
      EXPECT_EQ(info->version, 7u);
      EXPECT_EQ(info->version_string, "1.2.7");
      EXPECT_EQ(info->arch, "x86_64");
      EXPECT_EQ(info->compat, "nestbox-demo-board");
      EXPECT_EQ(info->created, 1700000000);
      EXPECT_EQ(info->signer_key_id, k.id);
      EXPECT_EQ(info->policy, "policy-bytes:demo\n");
      EXPECT_EQ(info->squashfs_offset, 0u);
      EXPECT_EQ(info->squashfs_size % 4096, 0u);
      EXPECT_EQ(info->verity_offset, info->squashfs_size);
      EXPECT_EQ(info->verity_root_hex, built->verity_root_hex);
      EXPECT_EQ(info->verity_salt_hex.size(), 64u);
      EXPECT_FALSE(info->tree_manifest);
    }
  }
}

TEST(Verifier, ImageWithoutVerityVerifiesFullButRefusesVerityMode) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k");
  std::string sqfs = testing::make_squashfs(dir, "a", 2, 1, 100);
  auto s = testing::spec_for(sqfs, {k}, "");
  s.verity = false;
  ASSERT_TRUE(signer::build_image(s, dir / "a.img").ok());
  std::string ring = testing::make_keyring(dir, "ring", {k});
  auto full = verify(dir / "a.img", ring);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->verity_size, 0u);
  EXPECT_EQ(full->policy, "");
  auto v = verify(dir / "a.img", ring, Mode::kVerity);
  EXPECT_EQ(message_of(v), "verify " + dir / "a.img" + ": metadata: verity mode requested but the image has no hash tree");
}

TEST(Verifier, UntrustedAndRevokedKeysAreRejected) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k"), other = testing::make_key(dir, "other");
  std::string sqfs = testing::make_squashfs(dir, "a", 3, 1, 100);
  std::string img = dir / "a.img";
  ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {k}), img).ok());
  std::string prefix = "verify " + img + ": signatures: no signature by a trusted, non-revoked key (";
  EXPECT_EQ(message_of(verify(img, testing::make_keyring(dir, "other", {other}))), prefix + k.id + " untrusted)");
  std::string ring = testing::make_keyring(dir, "ring", {k, other});
  EXPECT_TRUE(verify(img, ring).ok());
  EXPECT_EQ(message_of(verify(img, ring, Mode::kFull, {k.id})), prefix + k.id + " revoked)");
  // The same through the keyring's revocation file.
  spit(ring + "/revoked", "# revoked after the 2026 leak\n" + k.id + "\n");
  EXPECT_EQ(message_of(verify(img, ring, Mode::kVerity)), prefix + k.id + " revoked)");
  spit(ring + "/revoked", "not-an-id\n");
  EXPECT_EQ(message_of(verify(img, ring)),
            "verify " + img + ": keyring: " + ring + "/revoked:1: expected a key id (64 lower-case hex digits)");
  // A keyring file that is not a public key fails closed.
  ::unlink((ring + "/revoked").c_str());
  spit(ring + "/broken.pem", "garbage");
  EXPECT_EQ(message_of(verify(img, ring)), "verify " + img + ": keyring: " + ring +
                                               "/broken.pem: not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
}

TEST(Verifier, RotationEitherTrustedKeyAcceptsTheCoSignedImage) {
  TempDir dir;
  KeyPair old_key = testing::make_key(dir, "old", signer::KeyType::kEcdsaP256);
  KeyPair new_key = testing::make_key(dir, "new");
  std::string sqfs = testing::make_squashfs(dir, "a", 4, 1, 100);
  std::string both = dir / "both.img", old_only = dir / "old.img";
  ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {old_key, new_key}), both).ok());
  ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {old_key}), old_only).ok());
  std::string ring_old = testing::make_keyring(dir, "ring_old", {old_key});
  std::string ring_new = testing::make_keyring(dir, "ring_new", {new_key});
  std::string ring_both = testing::make_keyring(dir, "ring_both", {old_key, new_key});
  auto a = verify(both, ring_old);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->signer_key_id, old_key.id);
  auto b = verify(both, ring_new);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->signer_key_id, new_key.id);
  auto c = verify(both, ring_both);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->signer_key_ids, (std::vector<std::string>{old_key.id, new_key.id}));
  // After the old key is revoked, the co-signed image still passes; old-only images do not.
  EXPECT_TRUE(verify(both, ring_both, Mode::kFull, {old_key.id}).ok());
  EXPECT_FALSE(verify(old_only, ring_both, Mode::kFull, {old_key.id}).ok());
  EXPECT_FALSE(verify(old_only, ring_new).ok());
}

TEST(Verifier, FailingSignatureByATrustedKeyRejectsEvenIfAnotherVerifies) {
  TempDir dir;
  KeyPair a = testing::make_key(dir, "a"), b = testing::make_key(dir, "b");
  std::string sqfs = testing::make_squashfs(dir, "x", 5, 1, 100);
  std::string img = dir / "x.img";
  ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {a, b}), img).ok());
  std::string bytes = slurp(img);
  // Corrupt the second signature's bytes.
  size_t sig1 = bytes.size() - sizeof(image::Trailer) - sizeof(image::SignatureEntry) +
                offsetof(image::SignatureEntry, signature);
  bytes[sig1 + 3] ^= 1;
  spit(img, bytes);
  std::string ring = testing::make_keyring(dir, "ring", {a, b});
  EXPECT_EQ(message_of(verify(img, ring)),
            "verify " + img + ": signatures: signature 1 (key " + b.id + "): signature does not verify");
  // A device that only trusts `a` cannot check b's signature and accepts.
  EXPECT_TRUE(verify(img, testing::make_keyring(dir, "ring_a", {a})).ok());
}

TEST(Verifier, AlgorithmMustMatchTheKey) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k");
  std::string sqfs = testing::make_squashfs(dir, "x", 6, 1, 100);
  std::string img = dir / "x.img";
  ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {k}), img).ok());
  std::string bytes = slurp(img);
  size_t alg = bytes.size() - sizeof(image::Trailer) - sizeof(image::SignatureEntry) +
               offsetof(image::SignatureEntry, algorithm);
  bytes[alg] = 2;  // claim ECDSA for an Ed25519 key
  spit(img, bytes);
  EXPECT_EQ(message_of(verify(img, testing::make_keyring(dir, "ring", {k}))),
            "verify " + img + ": signatures: signature 0 (key " + k.id +
                "): algorithm ecdsa-p256-sha256 does not match the key (ed25519)");
}

TEST(Verifier, PolicySwappedFromAnotherValidImageIsRejected) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k");
  std::string sqfs = testing::make_squashfs(dir, "x", 7, 2, 3000);
  // Same-size policies, so the splice keeps every offset valid.
  std::string a = dir / "a.img", b = dir / "b.img";
  ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {k}, "policy: strict!!\n"), a).ok());
  ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {k}, "policy: lenient\n\n"), b).ok());
  std::string ring = testing::make_keyring(dir, "ring", {k});
  auto ia = verify(a, ring), ib = verify(b, ring);
  ASSERT_TRUE(ia.ok() && ib.ok());
  std::string bytes = slurp(a), other = slurp(b);
  uint64_t off = ia->verity_offset + ia->verity_size;
  bytes.replace(off, 17, other.substr(off, 17));
  spit(a, bytes);
  for (Mode mode : {Mode::kFull, Mode::kVerity})
    EXPECT_EQ(message_of(verify(a, ring, mode)), "verify " + a + ": policy: sha256 mismatch");
  // Swapping metadata+signatures+trailer too (b's whole tail) is caught by b's policy digest.
  std::string tail_swapped = slurp(a);
  tail_swapped.replace(off + 17, std::string::npos, other.substr(off + 17));
  tail_swapped.replace(off, 17, std::string("policy: strict!!\n"));
  spit(a, tail_swapped);
  EXPECT_EQ(message_of(verify(a, ring)), "verify " + a + ": policy: sha256 mismatch");
}

TEST(Verifier, NotAnImage) {
  TempDir dir;
  std::string ring = dir / "ring";
  ::mkdir(ring.c_str(), 0755);
  spit(dir / "tiny", "abc");
  EXPECT_EQ(message_of(verify(dir / "tiny", ring)), "verify " + dir / "tiny" + ": trailer: file too small");
  spit(dir / "zeros", std::string(10000, '\0'));
  EXPECT_EQ(message_of(verify(dir / "zeros", ring)),
            "verify " + dir / "zeros" + ": trailer: bad magic (not a nestbox image, or truncated/appended)");
  auto missing = verify(dir / "missing", ring);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kFailure);
  EXPECT_EQ(missing.error().message, "verify " + dir / "missing" + ": open: No such file or directory");
}

TEST(Installable, ArchCompatAndRollback) {
  verifier::ImageInfo img;
  img.name = "nas";
  img.version = 5;
  img.version_string = "2.1";
  img.arch = "aarch64";
  img.compat = "board-a";
  verifier::DeviceIdentity dev{"aarch64", "board-a"};
  EXPECT_TRUE(verifier::check_installable(img, dev, 0, false).ok());
  EXPECT_TRUE(verifier::check_installable(img, dev, 5, false).ok());
  auto st = verifier::check_installable(img, dev, 6, false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "rollback refused: image nas version 5 (2.1) is lower than the installed version 6 (use --allow-downgrade)");
  EXPECT_TRUE(verifier::check_installable(img, dev, 6, true).ok());
  st = verifier::check_installable(img, {"mipsel", "board-a"}, 0, false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "image nas is for arch 'aarch64', this device is 'mipsel'");
  st = verifier::check_installable(img, {"aarch64", "board-b"}, 0, true);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "image nas has compatibility 'board-a', this device needs 'board-b'");
}

TEST(RollbackState, RecordsPerNameAtomicallyAndRefusesLowering) {
  TempDir dir;
  EXPECT_EQ(*verifier::read_installed_version(dir.path(), "nas"), 0u);
  ASSERT_TRUE(verifier::record_installed_version(dir.path(), "nas", 4, false).ok());
  ASSERT_TRUE(verifier::record_installed_version(dir.path(), "web", 9, false).ok());
  EXPECT_EQ(*verifier::read_installed_version(dir.path(), "nas"), 4u);
  EXPECT_EQ(*verifier::read_installed_version(dir.path(), "web"), 9u);
  auto st = verifier::record_installed_version(dir.path(), "nas", 3, false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "rollback refused: nas version 3 is lower than the recorded 4");
  EXPECT_EQ(*verifier::read_installed_version(dir.path(), "nas"), 4u);
  ASSERT_TRUE(verifier::record_installed_version(dir.path(), "nas", 3, true).ok());
  EXPECT_EQ(*verifier::read_installed_version(dir.path(), "nas"), 3u);
  EXPECT_EQ(slurp(dir / "nas.version"), "3\n");
  std::string out;
  testing::run("ls -A '" + dir.path() + "'", &out);
  EXPECT_EQ(out, "nas.version\nweb.version\n");  // no temp files left
  spit(dir / "bad.version", "12x\n");
  auto bad = verifier::read_installed_version(dir.path(), "bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, dir / "bad.version" + ": expected a decimal version and a newline");
  EXPECT_FALSE(verifier::read_installed_version(dir.path(), "../etc/passwd").ok());
  EXPECT_FALSE(verifier::read_installed_version(dir.path(), ".hidden").ok());
}

}  // namespace
}  // namespace nestbox

namespace nestbox {
namespace {

// Regression fixtures: crafted images with consistent trailer/metadata digests
// (so they pass the cheap checks) but hostile fields.
TEST(Malicious, WrappingVeritySizeIsRejectedBeforeAnyRead) {
  std::string img = std::string(NESTBOX_SOURCE_DIR) + "/tests/verifier/data/malicious-wrapping-verity-size.img";
  std::string ring = std::string(NESTBOX_SOURCE_DIR) + "/tests/signer/data";
  auto r = verifier::verify_image(img, verifier::Keyring{ring, {}}, verifier::Mode::kFull);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "verify " + img + ": metadata: regions larger than the file");
  EXPECT_EQ(r.error().kind, ErrorKind::kBadInput);
}

// A payload size within a block of 2^64 wrapped when aligned up: region 0
// then matched it. Signed metadata only, but checked all the same.
TEST(Malicious, PayloadSizeThatWrapsWhenAlignedIsRejected) {
  std::string bytes = slurp(std::string(NESTBOX_SOURCE_DIR) + "/tests/signer/data/golden.img");
  image::Trailer t;
  image::Metadata m;
  std::memcpy(&t, bytes.data() + bytes.size() - sizeof t, sizeof t);
  std::memcpy(&m, bytes.data() + t.metadata_offset.get(), sizeof m);
  ASSERT_TRUE(image::check_metadata(m, t).ok());
  m.payload_size.set(UINT64_MAX);
  m.payload.size.set(0);
  m.verity.offset.set(0);
  Status st = image::check_metadata(m, t);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "metadata: payload larger than the file");
}

TEST(Malicious, GoldenImageStillVerifiesWithItsCommittedKey) {
  std::string data = std::string(NESTBOX_SOURCE_DIR) + "/tests/signer/data";
  auto r = verifier::verify_image(data + "/golden.img", verifier::Keyring{data, {}}, verifier::Mode::kFull);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "golden");
  EXPECT_EQ(r->policy, "golden policy bytes\n");
}

}  // namespace
}  // namespace nestbox
