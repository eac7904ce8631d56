// The dm-verity table nestbox-launch loads, built from the signed metadata
// only, equals what veritysetup computes for the same image: data blocks and
// hash start block from `veritysetup --debug verify` (its own activation
// parameters), salt from `veritysetup dump`, the root hash accepted by
// `veritysetup verify`. Runs on any host (no device-mapper needed).
#include <fstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cstring>
#include <cerrno>
#include <gtest/gtest.h>

// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> (std::function
// in its automaton) at -O1 with ASan, which the sanitizer build makes an error.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>

#include "tests/signer/fixture.h"
#include "util/dm_device.h"
#include "verifier/verifier.h"

namespace nestbox {
namespace {

using testing::KeyPair;
using testing::TempDir;

std::string grab(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return "<no match for " + pattern + ">";
  return m[1].str();
}

TEST(VerityTable, EqualsVeritysetupsParametersForSignedImages) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k");
  std::string ring = testing::make_keyring(dir, "ring", {k});
  // One data block (no tree levels), a few, and enough for two levels.
  for (auto [files, bytes] : {std::pair{1, 100}, std::pair{4, 30000}, std::pair{40, 40000}}) {
    std::string name = "i" + std::to_string(files);
    std::string sqfs = testing::make_squashfs(dir, name, static_cast<unsigned>(files), files, bytes);
    std::string img = dir / (name + ".img");
    ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {k}), img).ok());
    auto info = verifier::verify_image(img, verifier::Keyring{ring, {}}, verifier::Mode::kVerity);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_FALSE(info->data_verified);
    auto params = verifier::verity_params(*info);
    ASSERT_TRUE(params.ok()) << params.error().message;
    auto table = dm::verity_table(*params, "7:3", "7:3");
    ASSERT_TRUE(table.ok()) << table.error().message;

    std::string off = std::to_string(info->verity_offset), debug, dump;
    ASSERT_EQ(testing::run("veritysetup --debug verify '" + img + "' '" + img + "' " + info->verity_root_hex +
                               " --hash-offset=" + off + " 2>&1",
                           &debug),
              0)
        << debug;
    ASSERT_EQ(testing::run("veritysetup dump '" + img + "' --hash-offset=" + off, &dump), 0) << dump;
    std::string blocks = grab(debug, "data blocks ([0-9]+), hash_device");
    std::string start = grab(debug, "hash_device .*, offset ([0-9]+)\\.");
    std::string salt = grab(dump, "Salt:\\s*([0-9a-f]+)");
    EXPECT_EQ(grab(dump, "Hash algorithm:\\s*(\\S+)"), "sha256");
    EXPECT_EQ(grab(dump, "Data block size:\\s*([0-9]+)"), "4096");
    EXPECT_EQ(grab(dump, "Hash block size:\\s*([0-9]+)"), "4096");
    EXPECT_EQ(grab(dump, "Hash type:\\s*([0-9]+)"), "1");
    EXPECT_EQ(*table, "1 7:3 7:3 4096 4096 " + blocks + " " + start + " sha256 " + info->verity_root_hex + " " + salt)
        << debug << dump;
  }
}

TEST(VerityTable, ParametersTheKernelWouldMisreadAreRefused) {
  dm::VerityParams p;
  p.data_blocks = 3;
  p.hash_offset = 12288;
  p.root_hex = std::string(64, 'a');
  p.salt_hex = "00ff";
  auto ok = dm::verity_table(p, "7:0", "7:0");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "1 7:0 7:0 4096 4096 3 4 sha256 " + std::string(64, 'a') + " 00ff");
  auto message = [](dm::VerityParams q, std::string dev = "7:0") {
    auto r = dm::verity_table(q, dev, dev);
    return r.ok() ? "accepted: " + *r : r.error().message;
  };
  // One change to the good parameters per row, and what it must give.
  struct Case {
    void (*change)(dm::VerityParams&);
    const char* expected;
  };
  const Case cases[] = {
      {[](dm::VerityParams& q) { q.root_hex = std::string(63, 'a') + " "; },
       "verity: root hash is not 64 hex digits"},
      {[](dm::VerityParams& q) { q.root_hex = std::string(64, 'A'); }, "verity: root hash is not 64 hex digits"},
      {[](dm::VerityParams& q) { q.salt_hex = "0 1"; }, "verity: bad salt"},
      {[](dm::VerityParams& q) { q.data_blocks = 0; }, "verity: no data blocks"},
      {[](dm::VerityParams& q) { q.hash_offset = 4097; },
       "verity: hash offset 4097 is not a multiple of the hash block size"},
      {[](dm::VerityParams& q) { q.data_block_size = 4095; }, "verity: block sizes must be powers of two >= 512"},
      {[](dm::VerityParams& q) { q.hash_type = 0; }, "verity: hash type 0 unsupported"},
  };
  for (const Case& c : cases) {
    dm::VerityParams q = p;
    c.change(q);
    EXPECT_EQ(message(q), c.expected);
  }
  EXPECT_EQ(message(p, "7:0 restart_on_corruption"), "verity: bad device");
  dm::VerityParams q = p;
  q.salt_hex = "";
  EXPECT_EQ(message(q), "accepted: 1 7:0 7:0 4096 4096 3 4 sha256 " + std::string(64, 'a') + " -");
}

// An unhashed payload has no window to mount without a tree.
TEST(VerityTable, NoParametersWithoutATree) {
  verifier::ImageInfo info;
  info.squashfs_size = 8192;
  auto p = verifier::verity_params(info);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message, "no dm-verity hash tree");
}

uint64_t rchar() {
  std::string io = testing::slurp("/proc/self/io");
  return std::stoull(io.substr(io.find("rchar: ") + 7));
}

// The start path in verity (and auto) mode reads O(1) bytes: trailer,
// metadata, signatures, policy, keys; never the payload. Full mode reads it
// all. Measured with the kernel's own count of bytes this process read.
TEST(VerityMode, ReadsNoPayloadWhileFullModeReadsItAll) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k");
  std::string ring = testing::make_keyring(dir, "ring", {k});
  std::string sqfs = testing::make_squashfs(dir, "big", 5, 8, 1 << 20);  // ~8 MiB, incompressible
  std::string img = dir / "big.img";
  ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {k}), img).ok());
  for (auto mode : {verifier::Mode::kVerity, verifier::Mode::kAuto, verifier::Mode::kFull}) {
    uint64_t before = rchar();
    auto info = verifier::verify_image(img, verifier::Keyring{ring, {}}, mode);
    uint64_t read = rchar() - before;
    ASSERT_TRUE(info.ok()) << info.error().message;
    ASSERT_GE(info->squashfs_size, 8u << 20);
    if (mode == verifier::Mode::kFull) {
      EXPECT_TRUE(info->data_verified);
      EXPECT_GE(read, info->squashfs_size + info->verity_size);
    } else {
      EXPECT_FALSE(info->data_verified);
      EXPECT_LT(read, 64u * 1024) << "verity-mode start read " << read << " bytes";
    }
  }
}

// auto = verity for an image with a tree (a flipped payload byte is left to
// dm-verity), full for one without (the flip is refused here).
TEST(VerityMode, AutoHashesAnImageWithoutATreeInFull) {
  TempDir dir;
  KeyPair k = testing::make_key(dir, "k");
  std::string ring = testing::make_keyring(dir, "ring", {k});
  std::string sqfs = testing::make_squashfs(dir, "a", 3, 2, 20000);
  for (bool tree : {true, false}) {
    auto s = testing::spec_for(sqfs, {k});
    s.verity = tree;
    std::string img = dir / (tree ? "t.img" : "n.img");
    ASSERT_TRUE(signer::build_image(s, img).ok());
    std::string bytes = testing::slurp(img);
    bytes[5000] = static_cast<char>(bytes[5000] ^ 1);
    testing::spit(img, bytes);
    auto info = verifier::verify_image(img, verifier::Keyring{ring, {}}, verifier::Mode::kAuto);
    if (tree) {
      ASSERT_TRUE(info.ok()) << info.error().message;
      EXPECT_FALSE(info->data_verified);
      EXPECT_TRUE(verifier::verity_params(*info).ok());
    } else {
      ASSERT_FALSE(info.ok());
      EXPECT_EQ(info.error().message, "verify " + img + ": squashfs: sha256 mismatch");
    }
  }
}

TEST(DmDevice, MissingControlNamesTheKernelOptions) {
  Status s = dm::verity_available("/nonexistent/mapper/control");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "this kernel has no device-mapper (CONFIG_BLK_DEV_DM), so no dm-verity (CONFIG_DM_VERITY): "
            "/nonexistent/mapper/control: No such file or directory");
}

// A control node with no driver behind it (dmsetup makes one even where the
// kernel has no device-mapper) is refused the same way as a missing node.
TEST(DmDevice, ControlNodeWithoutADriverNamesTheKernelOptions) {
  std::ifstream misc("/proc/misc");
  for (std::string line; std::getline(misc, line);)
    if (line.find("device-mapper") != std::string::npos) GTEST_SKIP() << "this kernel has device-mapper";
  char dir[] = "/tmp/nestbox-dmnode-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string node = std::string(dir) + "/control";
  ASSERT_EQ(::mknod(node.c_str(), S_IFCHR | 0600, makedev(10, 236)), 0) << strerror(errno);
  Status s = dm::verity_available(node);
  ::unlink(node.c_str());
  ::rmdir(dir);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "this kernel has no device-mapper (CONFIG_BLK_DEV_DM), so no dm-verity (CONFIG_DM_VERITY): " + node +
                ": No such device");
}

}  // namespace
}  // namespace nestbox
