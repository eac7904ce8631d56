// Tamper tests: any single bit flip anywhere, truncation at every region
// boundary and appended bytes are rejected, each with the region named.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "tests/signer/fixture.h"
#include "util/fd.h"
#include "verifier/image_format.h"
#include "verifier/verifier.h"

namespace nestbox {
namespace {

using testing::KeyPair;
using testing::slurp;
using testing::spit;
using testing::TempDir;
using verifier::Keyring;
using verifier::Mode;

struct Region {
  std::string name;
  uint64_t begin, end;
};

class Tamper : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = testing::make_key(dir_, "a");
    b_ = testing::make_key(dir_, "b", signer::KeyType::kEcdsaP256);
    std::string sqfs = testing::make_squashfs(dir_, "t", 11, 6, 30000);
    img_ = dir_ / "t.img";
    // Two signatures, both keys trusted: every signature byte is checkable.
    ASSERT_TRUE(signer::build_image(testing::spec_for(sqfs, {a_, b_}), img_).ok());
    ring_ = testing::make_keyring(dir_, "ring", {a_, b_});
    auto info = verifier::verify_image(img_, Keyring{ring_, {}}, Mode::kFull);
    ASSERT_TRUE(info.ok()) << info.error().message;
    bytes_ = slurp(img_);
    uint64_t size = bytes_.size();
    uint64_t policy = info->verity_offset + info->verity_size;
    uint64_t trailer = size - sizeof(image::Trailer);
    uint64_t sigs = trailer - sizeof(image::SignatureBlockHeader) - 2 * sizeof(image::SignatureEntry);
    uint64_t meta = sigs - sizeof(image::Metadata);
    regions_ = {{"squashfs", 0, info->squashfs_size},
                {"verity", info->verity_offset, policy},
                {"policy", policy, meta},
                {"metadata", meta, sigs},
                {"signatures", sigs, trailer},
                {"trailer", trailer, size}};
    for (const Region& r : regions_) ASSERT_LT(r.begin, r.end) << r.name;
    fd_ = UniqueFd(::open(img_.c_str(), O_RDWR));
    ASSERT_TRUE(fd_.valid());
  }

  void flip(uint64_t off, int bit) {
    char c = static_cast<char>(bytes_[off] ^ (1 << bit));
    ASSERT_EQ(::pwrite(fd_.get(), &c, 1, static_cast<off_t>(off)), 1);
  }
  void restore(uint64_t off) { ASSERT_EQ(::pwrite(fd_.get(), &bytes_[off], 1, static_cast<off_t>(off)), 1); }

  // The region named first in the error ("verify <path>: <region>: ...").
  std::string named_region(const Error& e) {
    std::string prefix = "verify " + img_ + ": ";
    if (e.message.compare(0, prefix.size(), prefix) != 0) return "?";
    std::string rest = e.message.substr(prefix.size());
    return rest.substr(0, rest.find(':'));
  }

  TempDir dir_;
  KeyPair a_, b_;
  std::string img_, ring_, bytes_;
  std::vector<Region> regions_;
  UniqueFd fd_;
};

TEST_F(Tamper, EverySingleBitFlipIsRejectedNamingItsRegion) {
  std::mt19937_64 rng(20261123);
  std::map<std::string, int> rejected;
  int total = 0;
  for (const Region& r : regions_) {
    std::vector<uint64_t> offsets = {r.begin, r.end - 1};
    std::uniform_int_distribution<uint64_t> pick(r.begin, r.end - 1);
    while (offsets.size() < 200) offsets.push_back(pick(rng));
    for (uint64_t off : offsets) {
      int bit = static_cast<int>(rng() % 8);
      flip(off, bit);
      auto res = verifier::verify_image(img_, Keyring{ring_, {}}, Mode::kFull);
      restore(off);
      ++total;
      ASSERT_FALSE(res.ok()) << "flip of bit " << bit << " at " << off << " (" << r.name << ") accepted";
      ASSERT_EQ(named_region(res.error()), r.name) << "offset " << off << ": " << res.error().message;
      ++rejected[r.name];
    }
  }
  EXPECT_GE(total, 1000);
  for (const Region& r : regions_) EXPECT_EQ(rejected[r.name], 200) << r.name;
  EXPECT_TRUE(verifier::verify_image(img_, Keyring{ring_, {}}, Mode::kFull).ok()) << "restore failed";
}

// Verity mode skips the data and the tree (dm-verity checks those on read);
// everything else is still checked. Data flips are caught by veritysetup verify.
TEST_F(Tamper, VerityModeChecksEverythingButTheBlocksWhichVeritysetupCatches) {
  std::mt19937_64 rng(7);
  for (const Region& r : regions_) {
    if (r.name == "squashfs" || r.name == "verity") continue;
    std::uniform_int_distribution<uint64_t> pick(r.begin, r.end - 1);
    for (int i = 0; i < 50; ++i) {
      uint64_t off = pick(rng);
      flip(off, i % 8);
      auto res = verifier::verify_image(img_, Keyring{ring_, {}}, Mode::kVerity);
      restore(off);
      ASSERT_FALSE(res.ok()) << r.name << " flip at " << off << " accepted in verity mode";
      EXPECT_EQ(named_region(res.error()), r.name) << res.error().message;
    }
  }
  auto info = verifier::verify_image(img_, Keyring{ring_, {}}, Mode::kVerity);
  ASSERT_TRUE(info.ok());
  std::string cmd = "veritysetup verify '" + img_ + "' '" + img_ + "' " + info->verity_root_hex +
                    " --hash-offset=" + std::to_string(info->verity_offset);
  std::string out;
  ASSERT_EQ(testing::run(cmd, &out), 0) << out;
  for (const Region& r : regions_) {
    if (r.name != "squashfs" && r.name != "verity") continue;
    // Skip the superblock's unused tail (bytes 512..4095 of the verity region), which dm-verity never reads.
    for (uint64_t off : {r.begin, (r.begin + r.end) / 2, r.end - 1}) {
      if (r.name == "verity" && off >= r.begin + 512 && off < r.begin + 4096) continue;
      flip(off, 0);
      int rc = testing::run(cmd, &out);
      restore(off);
      EXPECT_NE(rc, 0) << "veritysetup accepted a flip in " << r.name << " at " << off;
    }
  }
}

TEST_F(Tamper, TruncationAtEveryRegionBoundaryIsRejected) {
  std::vector<uint64_t> lengths = {0, 1, 4095};
  for (const Region& r : regions_) {
    for (uint64_t l : {r.begin, r.begin + 1, r.end - 1}) lengths.push_back(l);
    if (r.end < bytes_.size()) lengths.push_back(r.end);
  }
  std::string cut = dir_ / "cut.img";
  for (uint64_t l : lengths) {
    spit(cut, bytes_.substr(0, l));
    auto res = verifier::verify_image(cut, Keyring{ring_, {}}, Mode::kFull);
    ASSERT_FALSE(res.ok()) << "truncated to " << l << " accepted";
    EXPECT_NE(res.error().message.find("trailer: "), std::string::npos) << res.error().message;
  }
}

TEST_F(Tamper, AppendedBytesAreRejected) {
  std::string longer = dir_ / "longer.img";
  std::string trailer = bytes_.substr(bytes_.size() - sizeof(image::Trailer));
  for (const std::string& extra : {std::string(1, '\0'), std::string(4096, 'x'), trailer, bytes_}) {
    spit(longer, bytes_ + extra);
    auto res = verifier::verify_image(longer, Keyring{ring_, {}}, Mode::kVerity);
    ASSERT_FALSE(res.ok()) << extra.size() << " appended bytes accepted";
    EXPECT_NE(res.error().message.find(": trailer: "), std::string::npos) << res.error().message;
  }
  spit(longer, bytes_ + trailer);
  EXPECT_EQ(verifier::verify_image(longer, Keyring{ring_, {}}, Mode::kFull).error().message,
            "verify " + longer + ": trailer: image size " + std::to_string(bytes_.size()) + " but the file has " +
                std::to_string(bytes_.size() + trailer.size()) + " bytes (truncated or appended)");
}

}  // namespace
}  // namespace nestbox
