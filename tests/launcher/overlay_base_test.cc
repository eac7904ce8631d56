// The base below an overlay layer (launcher/overlay_base.h), verified with
// real keys and real signed images: a pinned base digest is proved by the
// base's bytes in every verification mode, never taken from what its signed
// metadata claims.
#include "launcher/overlay_base.h"

#include <gtest/gtest.h>

#include <cstring>

#include "signer/keys.h"
#include "tests/signer/fixture.h"
#include "verifier/crypto.h"
#include "verifier/image_format.h"

namespace nestbox::launcher {
namespace {

using testing::KeyPair;
using testing::slurp;
using testing::spit;
using testing::TempDir;

// Rewrites the payload digest the metadata of `path` claims and signs the
// image again with `key` (its one signature): what the holder of any trusted
// key can make by hand. The payload, tree and root hash stay its own.
void claim_payload_digest(const std::string& path, const std::string& digest, const KeyPair& key,
                          image::SigAlgorithm alg) {
  std::string bytes = slurp(path);
  image::Trailer t;
  std::memcpy(&t, bytes.data() + bytes.size() - sizeof t, sizeof t);
  const size_t meta_at = t.metadata_offset.get(), sigs_at = t.signatures_offset.get();
  image::Metadata m;
  std::memcpy(&m, bytes.data() + meta_at, sizeof m);
  ASSERT_EQ(digest.size(), sizeof m.payload.sha256);
  std::memcpy(m.payload.sha256, digest.data(), digest.size());
  std::memcpy(bytes.data() + meta_at, &m, sizeof m);
  std::string meta = crypto::sha256(std::string_view(reinterpret_cast<const char*>(&m), sizeof m));
  std::memcpy(t.metadata_sha256, meta.data(), meta.size());
  std::string self = image::trailer_self_digest(t);
  std::memcpy(t.trailer_sha256, self.data(), self.size());
  std::memcpy(bytes.data() + bytes.size() - sizeof t, &t, sizeof t);
  std::string_view sigs(bytes.data() + sigs_at, t.signatures_size.get());
  auto signed_digest = image::signed_digest(std::string_view(bytes.data() + meta_at, sizeof m), sigs,
                                            std::string_view(reinterpret_cast<const char*>(&t), sizeof t));
  ASSERT_TRUE(signed_digest.ok());
  auto pkey = signer::load_private_key(key.private_path);
  ASSERT_TRUE(pkey.ok()) << pkey.error().message;
  auto sig = signer::sign(pkey->get(), alg, *signed_digest);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  image::SignatureEntry e;
  size_t entry_at = sigs_at + sizeof(image::SignatureBlockHeader);
  std::memcpy(&e, bytes.data() + entry_at, sizeof e);
  std::memset(e.signature, 0, sizeof e.signature);
  std::memcpy(e.signature, sig->data(), sig->size());
  e.signature_size.set(sig->size());
  std::memcpy(bytes.data() + entry_at, &e, sizeof e);
  spit(path, bytes);
}

TEST(OverlayBase, APinnedDigestIsProvedByTheBasesBytesInEveryMode) {
  TempDir dir;
  // The app's vendor signs the base it was built against; another vendor's
  // key is trusted on the same device (an app store).
  KeyPair vendor = testing::make_key(dir, "vendor");
  KeyPair other = testing::make_key(dir, "other", signer::KeyType::kEcdsaP256);
  std::string ring = testing::make_keyring(dir, "ring", {vendor, other});
  auto build = [&](const std::string& name, unsigned seed, const KeyPair& key) {
    auto spec = testing::spec_for(testing::make_squashfs(dir, name, seed, 3, 20000), {key}, "");
    spec.name = "appbase";
    std::string out = dir / (name + ".img");
    EXPECT_TRUE(signer::build_image(spec, out).ok());
    return out;
  };
  std::string genuine = build("genuine", 1, vendor), forged = build("forged", 2, other);
  auto real = verifier::verify_image(genuine, verifier::Keyring{ring, {}}, verifier::Mode::kFull);
  ASSERT_TRUE(real.ok()) << real.error().message;
  std::string raw;
  ASSERT_TRUE(crypto::from_hex(real->payload_sha256_hex, &raw));
  claim_payload_digest(forged, raw, other, image::SigAlgorithm::kEcdsaP256Sha256);
  // Its signature and tree are in order: verity mode accepts it as it is.
  auto claimed = verifier::verify_image(forged, verifier::Keyring{ring, {}}, verifier::Mode::kVerity);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  EXPECT_EQ(claimed->payload_sha256_hex, real->payload_sha256_hex);

  policy::Policy app;
  app.name = "app";
  app.rootfs = policy::RootfsKind::kOverlay;
  app.base = "appbase";
  app.base_sha256 = real->payload_sha256_hex;
  for (verifier::Mode mode : {verifier::Mode::kVerity, verifier::Mode::kAuto, verifier::Mode::kFull}) {
    BaseLookup lookup{forged, "", verifier::Keyring{ring, {}}, mode, {"x86_64", "nestbox-demo-board"}, ""};
    auto w = resolve_overlay_base(app, lookup);
    ASSERT_FALSE(w.ok()) << "mode " << static_cast<int>(mode) << ": the other vendor's base ran under the pin"
                         << (w.ok() && w->verity ? " (dm-verity root " + w->verity->root_hex + ")" : "");
    EXPECT_NE(w.error().message.find("squashfs: sha256 mismatch"), std::string::npos) << w.error().message;
    // The base the pin names: hashed in full, mounted by its proved digest.
    lookup.image = genuine;
    auto ok = resolve_overlay_base(app, lookup);
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_FALSE(ok->verity.has_value());
    EXPECT_EQ(ok->digest, real->payload_sha256_hex);
  }
}

}  // namespace
}  // namespace nestbox::launcher
