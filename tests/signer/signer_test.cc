#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <ctime>

#include <gtest/gtest.h>

#include "signer/image_builder.h"
#include "signer/keys.h"
#include "signer/verity_tree.h"
#include "tests/signer/fixture.h"
#include "util/fd.h"
#include "verifier/crypto.h"
#include "verifier/image_format.h"
#include "verifier/verifier.h"

namespace nestbox {
namespace {

using testing::KeyPair;
using testing::run;
using testing::slurp;
using testing::spit;
using testing::TempDir;

std::string uuid_string(const std::string& raw) {
  std::string h = crypto::to_hex(raw);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

TEST(Keys, GenerateEveryTypeKeyIdIsSpkiSha256) {
  TempDir dir;
  for (auto [name, type] : {std::pair{"ed", signer::KeyType::kEd25519}, std::pair{"ec", signer::KeyType::kEcdsaP256},
                            std::pair{"rsa", signer::KeyType::kRsa3072}}) {
    KeyPair k = testing::make_key(dir, name, type);
    struct stat st;
    ASSERT_EQ(::stat(k.private_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
    std::string out;
    ASSERT_EQ(run("openssl pkey -pubin -in '" + k.public_path + "' -outform DER | sha256sum", &out), 0) << out;
    EXPECT_EQ(out.substr(0, 64), k.id) << name;
    // The private key loads through OSSL_STORE both as a path and as a file: URI.
    auto a = signer::load_private_key(k.private_path);
    ASSERT_TRUE(a.ok()) << a.error().message;
    auto b = signer::load_private_key("file:" + k.private_path);
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_EQ(crypto::to_hex(*crypto::ossl::key_id(b->get())), k.id);
  }
}

TEST(Keys, RefusesToOverwriteAndReportsMissingKeys) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "a");
  auto again = signer::generate_key(signer::KeyType::kEd25519, k.private_path, dir / "other.pub");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("File exists"), std::string::npos) << again.error().message;
  auto missing = signer::load_private_key(dir / "nope.key");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.key"), std::string::npos);
  spit(dir / "garbage.key", "not a key\n");
  auto garbage = signer::load_private_key(dir / "garbage.key");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().kind, ErrorKind::kBadInput);
  EXPECT_FALSE(signer::parse_key_type("dsa").ok());
  EXPECT_EQ(*signer::parse_key_type("ecdsa-p256"), signer::KeyType::kEcdsaP256);
}

// A private key file is opened once and must be a regular file only its
// owner can read or change: a group/world-readable key (a copy with the
// default umask) was used as it was, a FIFO hung `sign` in open(2) and a
// directory made OSSL_STORE try every file in it.
TEST(Keys, RefusesKeyFilesOthersCanReadAndNonRegularFiles) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "a");
  ASSERT_TRUE(signer::load_private_key(k.private_path).ok());
  for (mode_t mode : {0644, 0640, 0602}) {
    ASSERT_EQ(::chmod(k.private_path.c_str(), mode), 0);
    for (const std::string& uri : {k.private_path, "file:" + k.private_path, "file://" + k.private_path}) {
      auto r = signer::load_private_key(uri);
      ASSERT_FALSE(r.ok()) << uri << " " << mode;
      EXPECT_EQ(r.error().kind, ErrorKind::kBadInput);
      char m[8];
      snprintf(m, sizeof m, "%04o", static_cast<unsigned>(mode));
      EXPECT_EQ(r.error().message, "key " + uri + ": mode " + m +
                                       " lets other users read or change the private key; expected 0600 or "
                                       "stricter (chmod 600 " + k.private_path + ")");
    }
  }
  ASSERT_EQ(::chmod(k.private_path.c_str(), 0400), 0);
  auto ro = signer::load_private_key("file:" + k.private_path);
  ASSERT_TRUE(ro.ok()) << ro.error().message;
  EXPECT_EQ(crypto::to_hex(*crypto::ossl::key_id(ro->get())), k.id);
  std::string fifo = dir / "fifo.key";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string sub = dir / "keys.d";
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  for (const std::string& p : {fifo, sub}) {
    auto r = signer::load_private_key(p);
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.error().message, "key " + p + ": not a regular file");
  }
}

// Our tree equals what `veritysetup format --hash-offset` writes into the same
// file, byte for byte, for 1 block (no levels), 1 level, and 2 levels.
TEST(VerityTree, ByteIdenticalToVeritysetupFormat) {
  TempDir dir;
  std::string salt = crypto::sha256("salt");
  std::string uuid = crypto::sha256("uuid").substr(0, 16);
  uuid[6] = static_cast<char>((uuid[6] & 0x0f) | 0x40);
  uuid[8] = static_cast<char>((uuid[8] & 0x3f) | 0x80);
  for (uint64_t blocks : {1u, 2u, 128u, 129u, 300u}) {
    std::string data(blocks * 4096, '\0');
    std::mt19937 rng(static_cast<unsigned>(blocks));
    for (char& c : data) c = static_cast<char>(rng());
    std::string ours = dir / "ours", theirs = dir / "theirs";
    spit(ours, data);
    spit(theirs, data);
    UniqueFd fd(::open(ours.c_str(), O_RDONLY));
    auto tree = signer::build_verity_tree(fd.get(), data.size(), salt, uuid);
    ASSERT_TRUE(tree.ok()) << tree.error().message;
    spit(ours, data + tree->region);
    std::string out;
    std::string offset = std::to_string(data.size());
    ASSERT_EQ(run("veritysetup format '" + theirs + "' '" + theirs + "' --hash-offset=" + offset +
                      " --data-blocks=" + std::to_string(blocks) + " --salt=" + crypto::to_hex(salt) +
                      " --uuid=" + uuid_string(uuid),
                  &out),
              0)
        << out;
    EXPECT_NE(out.find("Root hash:      \t" + crypto::to_hex(tree->root)), std::string::npos) << out;
    std::string expect = slurp(theirs);
    EXPECT_EQ(expect.size(), data.size() + tree->region.size()) << blocks;
    EXPECT_TRUE(expect == slurp(ours)) << "tree differs from veritysetup's for " << blocks << " blocks";
    ASSERT_EQ(run("veritysetup verify '" + ours + "' '" + ours + "' " + crypto::to_hex(tree->root) +
                      " --hash-offset=" + offset, &out), 0) << out;
  }
}

TEST(ImageBuilder, EmbeddedTreePassesVeritysetupVerifyAndCatchesTampering) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k");
  std::string sqfs = testing::make_squashfs(dir, "a", 1, 8, 70000);
  std::string img = dir / "a.img";
  auto built = signer::build_image(testing::spec_for(sqfs, {k}), img);
  ASSERT_TRUE(built.ok()) << built.error().message;
  auto info = verifier::verify_image(img, verifier::Keyring{testing::make_keyring(dir, "ring", {k}), {}},
                                     verifier::Mode::kVerity);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->verity_root_hex, built->verity_root_hex);
  std::string cmd = "veritysetup verify '" + img + "' '" + img + "' " + info->verity_root_hex +
                    " --hash-offset=" + std::to_string(info->verity_offset);
  std::string out;
  ASSERT_EQ(run(cmd, &out), 0) << out;
  // The data device is the squashfs window: veritysetup derives it from the superblock.
  std::string bytes = slurp(img);
  bytes[5000] ^= 0x10;
  spit(img, bytes);
  EXPECT_NE(run(cmd, &out), 0) << "veritysetup accepted a flipped data bit";
}

TEST(ImageBuilder, StaysLoopMountableAndUnsquashfsReadsIt) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k");
  std::string sqfs = testing::make_squashfs(dir, "a", 2, 2, 5000);
  std::string img = dir / "a.img";
  ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {k}), img).ok());
  std::string out;
  ASSERT_EQ(run("unsquashfs -cat '" + img + "' hello", &out), 0) << out;
  EXPECT_EQ(out, "hello from a\n");
  std::string mnt = dir / "mnt";
  ::mkdir(mnt.c_str(), 0755);
  if (run("mount -o loop,ro '" + img + "' '" + mnt + "'", &out) != 0)
    GTEST_SKIP() << "loop mount unavailable here: " << out;
  std::string hello = slurp(mnt + "/hello");
  run("umount '" + mnt + "'");
  EXPECT_EQ(hello, "hello from a\n");
}

TEST(ImageBuilder, DeterministicAndMatchesGoldenImage) {
  // Fixed inputs: a committed squashfs, a committed Ed25519 test key
  // (deterministic signatures), a fixed creation time.
  std::string data = std::string(NESTBOX_SOURCE_DIR) + "/tests/signer/data";
  TempDir dir;
  signer::ImageSpec s;
  s.payload_path = data + "/golden.sqfs";
  s.policy = "golden policy bytes\n";
  s.name = "golden";
  s.version = 3;
  s.version_string = "3.0";
  s.arch = "x86_64";
  s.compat = "nestbox-golden";
  s.created = 1700000000;
  // git checks the key out 0644; a private key file must be the owner's alone.
  std::string key = dir / "golden-test-ed25519.key";
  spit(key, slurp(data + "/golden-test-ed25519.key"));
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  s.key_uris = {key};
  ASSERT_TRUE(signer::build_image(s, dir / "one.img").ok());
  ASSERT_TRUE(signer::build_image(s, dir / "two.img").ok());
  std::string one = slurp(dir / "one.img");
  EXPECT_TRUE(one == slurp(dir / "two.img")) << "same inputs, different image";
  if (std::getenv("NESTBOX_REGEN_GOLDEN")) spit(data + "/golden.img", one);
  // Regenerate after an intended format change: NESTBOX_REGEN_GOLDEN=1 signer_tests.
  EXPECT_TRUE(one == slurp(data + "/golden.img"))
      << "image bytes changed: the format is versioned; bump kFormatVersion or fix the regression";
}

// The library takes the creation time it is given (the front end passes
// SOURCE_DATE_EPOCH, tests/cli/source_date_epoch_test.cc) and never reads the
// environment itself: unset, it is the current time.
TEST(ImageBuilder, CreationTimeIsGivenNotReadFromTheEnvironment) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k");
  std::string sqfs = testing::make_squashfs(dir, "a", 3, 1, 100);
  auto s = testing::spec_for(sqfs, {k});
  s.created = 1234567;
  auto built = signer::build_image(s, dir / "a.img");
  ASSERT_TRUE(built.ok()) << built.error().message;
  s.created.reset();
  ::setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
  int64_t before = static_cast<int64_t>(std::time(nullptr));
  auto now = signer::build_image(s, dir / "b.img");
  ::unsetenv("SOURCE_DATE_EPOCH");
  ASSERT_TRUE(now.ok()) << now.error().message;
  auto keyring = testing::make_keyring(dir, "r", {k});
  auto info = verifier::verify_image(dir / "a.img", {keyring, {}}, verifier::Mode::kFull);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->created, 1234567);
  auto info_now = verifier::verify_image(dir / "b.img", {keyring, {}}, verifier::Mode::kFull);
  ASSERT_TRUE(info_now.ok()) << info_now.error().message;
  EXPECT_GE(info_now->created, before);
}

TEST(ImageBuilder, RejectsBadInputWithoutLeavingFiles) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k");
  spit(dir / "not.sqfs", std::string(8192, 'x'));
  auto r = signer::build_image(testing::spec_for(dir / "not.sqfs", {k}), dir / "out.img");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, dir / "not.sqfs" + ": not a squashfs image (expected magic 'hsqs' at offset 0)");
  std::string sqfs = testing::make_squashfs(dir, "a", 4, 1, 100);
  auto s = testing::spec_for(sqfs, {k, k});
  r = signer::build_image(s, dir / "out.img");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("the same key is given twice"), std::string::npos);
  s = testing::spec_for(sqfs, {k});
  s.name = std::string(64, 'n');
  r = signer::build_image(s, dir / "out.img");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "name: longer than 63 bytes");
  s = testing::spec_for(sqfs, {k});
  s.key_uris.clear();
  EXPECT_FALSE(signer::build_image(s, dir / "out.img").ok());
  std::string out;
  run("ls '" + dir.path() + "'", &out);
  EXPECT_EQ(out.find("out.img"), std::string::npos) << out;
}

}  // namespace
}  // namespace nestbox

namespace nestbox {
namespace {

TEST(Keys, ProvidersLoadByNameAndUnknownOnesFail) {
  EXPECT_TRUE(signer::load_provider("default").ok());
  Status st = signer::load_provider("nestbox-no-such-provider");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.rfind("load provider nestbox-no-such-provider: ", 0), 0u) << st.error().message;
  // An OSSL_STORE URI whose scheme no provider handles.
  auto k = signer::load_private_key("pkcs11:token=none;object=none");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().message.rfind("key pkcs11:token=none;object=none: cannot open", 0), 0u) << k.error().message;
}

}  // namespace
}  // namespace nestbox
