// The verifier's crypto backends against the same golden images
// (tests/verifier/data/backends, signed by the host signer with libcrypto).
// This file is built once per backend (verifier_backend_tests_openssl,
// verifier_backend_tests_mbedtls): every ECDSA P-256 and RSA-PSS verdict and
// key id below must be the same for both, the exact message included. Only
// Ed25519 differs, by design: the mbedTLS backend refuses it (fail closed).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "verifier/crypto.h"
#include "verifier/image_format.h"
#include "verifier/keyring.h"
#include "verifier/verifier.h"

namespace nestbox {
namespace {

namespace fs = std::filesystem;
using verifier::Keyring;
using verifier::Mode;

const std::string kData = std::string(NESTBOX_SOURCE_DIR) + "/tests/verifier/data/backends";
const std::string kEd25519 = std::string(NESTBOX_SOURCE_DIR) + "/tests/signer/data";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// The key ids the host signer (libcrypto, `nestbox keygen --id`) printed.
std::map<std::string, std::string> signer_ids() {
  std::map<std::string, std::string> ids;
  std::istringstream in(slurp(kData + "/key-ids.txt"));
  std::string name, id;
  while (in >> name >> id) ids[name] = id;
  return ids;
}

class Backend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nestbox-backend-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ids_ = signer_ids();
    ASSERT_EQ(ids_.size(), 3u);
    image_ = slurp(kData + "/" + GetParam() + ".img");
    ASSERT_GT(image_.size(), sizeof(image::Trailer) + sizeof(image::SignatureEntry));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A keyring directory holding exactly `names` (*.pub of the data dir).
  std::string ring(const std::vector<std::string>& names, const std::string& src = kData) {
    std::string d = dir_ + "/ring" + std::to_string(rings_++);
    fs::create_directory(d);
    for (const std::string& n : names) fs::copy_file(src + "/" + n + ".pub", d + "/" + n + ".pub");
    return d;
  }
  // The image (possibly altered) written to a file of its own.
  std::string write(const std::string& bytes, const std::string& name) {
    std::string p = dir_ + "/" + name + ".img";
    spit(p, bytes);
    return p;
  }
  Result<verifier::ImageInfo> verify(const std::string& path, const std::string& keyring) {
    return verifier::verify_image(path, Keyring{keyring, {}}, Mode::kFull);
  }
  // Offset of the one signature entry (the images carry one each).
  size_t entry() const { return image_.size() - sizeof(image::Trailer) - sizeof(image::SignatureEntry); }
  std::string id() { return ids_[GetParam()]; }

  std::string dir_;
  int rings_ = 0;
  std::map<std::string, std::string> ids_;
  std::string image_;
};

TEST(BackendName, IsTheOneThisBinaryWasBuiltWith) {
  EXPECT_STREQ(crypto::backend_name(), NESTBOX_EXPECT_BACKEND);
}

// The id is SHA-256 of the DER SubjectPublicKeyInfo: mbedTLS re-encodes the
// parsed key to the same bytes libcrypto's i2d_PUBKEY gives.
TEST(BackendKeyIds, EqualTheSignersIds) {
  for (const auto& [name, want] : signer_ids()) {
    auto key = crypto::load_public_pem(slurp(kData + "/" + name + ".pub"), name);
    ASSERT_TRUE(key.ok()) << key.error().message;
    auto id = crypto::key_id(*key);
    ASSERT_TRUE(id.ok()) << id.error().message;
    EXPECT_EQ(crypto::to_hex(*id), want) << name;
    auto alg = crypto::algorithm_for_key(*key);
    ASSERT_TRUE(alg.ok()) << alg.error().message;
    EXPECT_EQ(*alg, name == "rsa" ? image::SigAlgorithm::kRsaPssSha256 : image::SigAlgorithm::kEcdsaP256Sha256);
  }
}

TEST(BackendSha256, KnownAnswers) {
  EXPECT_EQ(crypto::to_hex(crypto::sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  crypto::Sha256 h;
  std::string million(1000000, 'a');
  for (size_t i = 0; i < million.size(); i += 4093) h.update(million.data() + i, std::min<size_t>(4093, million.size() - i));
  EXPECT_EQ(crypto::to_hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_TRUE(h.ok());
}

TEST_P(Backend, GoodImageVerifiesWithTheSignersKeyId) {
  auto r = verify(write(image_, "good"), ring({GetParam()}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "golden-" + GetParam());
  EXPECT_EQ(r->signer_key_id, id());
  EXPECT_TRUE(r->data_verified);
}

TEST_P(Backend, TamperedPayloadIsRejected) {
  std::string bad = image_;
  bad[100] = static_cast<char>(bad[100] ^ 0x01);
  std::string p = write(bad, "payload");
  auto r = verify(p, ring({GetParam()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "verify " + p + ": squashfs: sha256 mismatch");
}

// A flipped signature byte reaches the backend's verify: it must say no.
TEST_P(Backend, TamperedSignatureIsRejected) {
  for (size_t at : {size_t{0}, size_t{20}, size_t{60}}) {
    std::string bad = image_;
    size_t off = entry() + offsetof(image::SignatureEntry, signature) + at;
    bad[off] = static_cast<char>(bad[off] ^ 0x40);
    std::string p = write(bad, "sig" + std::to_string(at));
    auto r = verify(p, ring({GetParam()}));
    ASSERT_FALSE(r.ok()) << "byte " << at;
    EXPECT_EQ(r.error().message,
              "verify " + p + ": signatures: signature 0 (key " + id() + "): signature does not verify");
  }
}

// The entry names the other (trusted) key: its id is signed, so the digest
// changes too, and the other key cannot verify the signature.
TEST_P(Backend, WrongKeyIsRejected) {
  std::string bad = image_;
  std::string other;
  ASSERT_TRUE(crypto::from_hex(ids_["other"], &other));
  if (GetParam() == "rsa") {
    // The algorithm must match the key, or that check answers first.
    uint16_t ecdsa = static_cast<uint16_t>(image::SigAlgorithm::kEcdsaP256Sha256);
    bad[entry() + offsetof(image::SignatureEntry, algorithm)] = static_cast<char>(ecdsa & 0xff);
    bad[entry() + offsetof(image::SignatureEntry, algorithm) + 1] = static_cast<char>(ecdsa >> 8);
  }
  bad.replace(entry(), other.size(), other);
  std::string p = write(bad, "wrongkey");
  auto r = verify(p, ring({"other"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "verify " + p + ": signatures: signature 0 (key " + ids_["other"] + "): signature does not verify");
  // Untouched image, only the other key trusted: nothing verifies.
  p = write(image_, "untrusted");
  r = verify(p, ring({"other"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "verify " + p + ": signatures: no signature by a trusted, non-revoked key (" +
                                   id() + " untrusted)");
}

TEST_P(Backend, TruncatedSignatureIsRejected) {
  std::string bad = image_;
  size_t size_at = entry() + offsetof(image::SignatureEntry, signature_size);
  uint16_t n = static_cast<uint16_t>(static_cast<uint8_t>(bad[size_at]) | static_cast<uint8_t>(bad[size_at + 1]) << 8);
  ASSERT_GT(n, 8);
  for (uint16_t cut : {uint16_t{1}, static_cast<uint16_t>(n / 2)}) {
    std::string t = bad;
    uint16_t m = static_cast<uint16_t>(n - cut);
    t[size_at] = static_cast<char>(m & 0xff);
    t[size_at + 1] = static_cast<char>(m >> 8);
    // Bytes past signature_size must be zero (image_format.h).
    for (size_t i = m; i < n; ++i) t[entry() + offsetof(image::SignatureEntry, signature) + i] = 0;
    std::string p = write(t, "cut" + std::to_string(cut));
    auto r = verify(p, ring({GetParam()}));
    ASSERT_FALSE(r.ok()) << "cut " << cut;
    EXPECT_EQ(r.error().message,
              "verify " + p + ": signatures: signature 0 (key " + id() + "): signature does not verify");
  }
}

TEST_P(Backend, AlgorithmMustMatchTheKey) {
  std::string bad = image_;
  bool rsa = GetParam() == "rsa";
  auto wrong = rsa ? image::SigAlgorithm::kEcdsaP256Sha256 : image::SigAlgorithm::kRsaPssSha256;
  bad[entry() + offsetof(image::SignatureEntry, algorithm)] = static_cast<char>(static_cast<uint16_t>(wrong) & 0xff);
  std::string p = write(bad, "alg");
  auto r = verify(p, ring({GetParam()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "verify " + p + ": signatures: signature 0 (key " + id() + "): algorithm " +
                                   crypto::algorithm_name(wrong) + " does not match the key (" +
                                   (rsa ? "rsa-pss-sha256" : "ecdsa-p256-sha256") + ")");
}

// An entry naming the trusted key with an algorithm the backend may lack
// (Ed25519 under mbedTLS): the same refusal, naming the key, under both
// backends; never skipped as if the key were unknown.
TEST_P(Backend, AnAlgorithmTheBackendLacksOnATrustedKeyIsRefusedAsMismatched) {
  std::string bad = image_;
  auto ed = image::SigAlgorithm::kEd25519;
  bad[entry() + offsetof(image::SignatureEntry, algorithm)] = static_cast<char>(static_cast<uint16_t>(ed) & 0xff);
  std::string p = write(bad, "ed-alg");
  auto r = verify(p, ring({GetParam()}));
  ASSERT_FALSE(r.ok());
  std::string prefix = "verify " + p + ": signatures: signature 0 (key " + id() + "): algorithm ed25519 ";
  EXPECT_EQ(r.error().message.compare(0, prefix.size(), prefix), 0) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(Golden, Backend, ::testing::Values("ecdsa", "rsa"));

// Ed25519: libcrypto verifies it; mbedTLS has none, so its keyring refuses
// the key by name and its verifier never accepts such a signature.
TEST(BackendEd25519, OpenSslVerifiesMbedTlsRefusesByName) {
  char tmpl[] = "/tmp/nestbox-backend-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  fs::create_directory(dir + "/ed");
  fs::copy_file(kEd25519 + "/golden-test-ed25519.pub", dir + "/ed/k.pub");
  fs::create_directory(dir + "/ec");
  fs::copy_file(kData + "/ecdsa.pub", dir + "/ec/ecdsa.pub");
  std::string img = kEd25519 + "/golden.img";
  auto ed = verifier::verify_image(img, Keyring{dir + "/ed", {}}, Mode::kFull);
  auto ec = verifier::verify_image(img, Keyring{dir + "/ec", {}}, Mode::kFull);
  auto loaded = verifier::TrustedKeys::load(Keyring{dir + "/ed", {}});
  ASSERT_FALSE(ec.ok());
  std::string ed_id;
  std::string msg = ec.error().message;
  size_t at = msg.find("key (");
  ASSERT_NE(at, std::string::npos) << msg;
  ed_id = msg.substr(at + 5, 64);
  if (std::string(NESTBOX_EXPECT_BACKEND) == "openssl") {
    ASSERT_TRUE(ed.ok()) << ed.error().message;
    EXPECT_EQ(ed->signer_key_id, ed_id);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(msg, "verify " + img + ": signatures: no signature by a trusted, non-revoked key (" + ed_id +
                       " untrusted)");
  } else {
    ASSERT_FALSE(ed.ok());
    ASSERT_FALSE(loaded.ok());
    std::string refused = dir + "/ed/k.pub: Ed25519 key, but this nestbox-launch verifies with mbedTLS, which has "
                          "no Ed25519 (use an ECDSA P-256 or RSA-3072 key, or the OpenSSL backend)";
    EXPECT_EQ(loaded.error().message, refused);
    EXPECT_EQ(ed.error().message, "verify " + img + ": keyring: " + refused);
    EXPECT_EQ(msg, "verify " + img + ": signatures: no signature by a trusted, non-revoked key (" + ed_id +
                       " ed25519 not supported by the mbedtls backend)");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace nestbox
