// The compressed-block store: warm builds reuse blocks and give the same
// bytes; a corrupt entry is detected, never used, and rebuilt; several images
// share one store.
#include <gtest/gtest.h>

#include <filesystem>

#include "composer/squashfs/squashfs_writer.h"
#include "tests/composer/squashfs/test_support.h"

namespace nestbox::composer::squashfs {
namespace {

using testing::diff_trees;
using testing::file_bytes;
using testing::Mount;
using testing::scan;
using testing::TempDir;
namespace fs = std::filesystem;

class BlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    fs::create_directories(src_);
    testing::make_fixture(src_);
    // Enough small files for several fragment blocks.
    for (int i = 0; i < 60; ++i)
      testing::write_file(src_ + "/usr/share/doc/f" + std::to_string(i), 3000 + 97 * i, 100 + i);
    tree_ = scan(src_);
    opts_.compressor.name = "zstd";
    opts_.threads = 2;
    opts_.mkfs_time = 0;
    opts_.block_size = 32768;
  }

  Result<SquashStats> build(const FsTree& t, const std::string& out) {
    auto store = BlockStore::open(tmp_ / "cache");
    if (!store.ok()) return std::move(store).error();
    return write_squashfs(t, out, opts_, &*store);
  }

  std::vector<std::string> entries() {
    std::vector<std::string> out;
    for (auto& e : fs::recursive_directory_iterator(tmp_ / "cache"))
      if (e.is_regular_file()) out.push_back(e.path());
    return out;
  }

  TempDir tmp_;
  std::string src_;
  FsTree tree_;
  SquashOptions opts_;
};

TEST_F(BlockCacheTest, WarmBuildReusesEveryBlockAndIsByteIdentical) {
  std::string plain = tmp_ / "plain.img", cold = tmp_ / "cold.img", warm = tmp_ / "warm.img";
  ASSERT_TRUE(write_squashfs(tree_, plain, opts_).ok());
  auto c = build(tree_, cold);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_GT(c->data.blocks_compressed, 0u);
  EXPECT_GT(c->data.fragment_blocks, 2u);
  EXPECT_EQ(c->data.blocks_from_cache + c->data.fragment_blocks_from_cache, 0u);
  auto w = build(tree_, warm);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->data.blocks_compressed, 0u);
  EXPECT_EQ(w->data.blocks_from_cache, c->data.blocks_compressed);
  EXPECT_EQ(w->data.fragment_blocks_from_cache, c->data.fragment_blocks);
  EXPECT_TRUE(file_bytes(cold) == file_bytes(warm));
  EXPECT_TRUE(file_bytes(cold) == file_bytes(plain));
}

TEST_F(BlockCacheTest, RebuildAfterTouchingOneFileRecompressesLittle) {
  auto c = build(tree_, tmp_ / "a.img");
  ASSERT_TRUE(c.ok());
  testing::write_text(src_ + "/usr/share/doc/f30", "changed content of one small file\n");
  testing::write_file(src_ + "/bin/busybox", 300 * 1024 + 123, 99);
  FsTree changed = scan(src_);
  auto w = build(changed, tmp_ / "b.img");
  ASSERT_TRUE(w.ok());
  uint64_t recompressed = w->data.fragment_blocks - w->data.fragment_blocks_from_cache;
  // Two changed tails (f30, busybox): each touches its fragment block and, at
  // most, the next one before content-defined cuts resynchronise.
  EXPECT_LE(recompressed, 5u) << "of " << w->data.fragment_blocks;
  EXPECT_LT(recompressed * 2, w->data.fragment_blocks);
  EXPECT_EQ(w->data.blocks_compressed, (300u * 1024 + 123) / 32768);  // busybox only
  Mount m("squashfs", tmp_ / "b.img", tmp_ / "mnt", "loop,ro");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(diff_trees(changed, scan(tmp_ / "mnt")), "");
}

TEST_F(BlockCacheTest, CorruptEntryIsDetectedRebuiltAndNeverUsed) {
  std::string cold = tmp_ / "cold.img";
  ASSERT_TRUE(build(tree_, cold).ok());
  auto files = entries();
  ASSERT_GT(files.size(), 3u);
  // Flip one byte in the middle of every entry, truncate one, empty another.
  for (const auto& f : files) {
    std::string b = file_bytes(f);
    b[b.size() / 2] ^= 0x5a;
    testing::write_text(f, b);
  }
  fs::resize_file(files[0], 30);
  fs::resize_file(files[1], 0);
  std::string again = tmp_ / "again.img";
  auto r = build(tree_, again);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->data.cache_corrupt, files.size());
  EXPECT_EQ(r->data.blocks_from_cache + r->data.fragment_blocks_from_cache, 0u);
  EXPECT_TRUE(file_bytes(cold) == file_bytes(again));
  Mount m("squashfs", again, tmp_ / "mnt", "loop,ro");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(diff_trees(tree_, scan(tmp_ / "mnt")), "");
  // The rebuilt entries are good again.
  auto third = build(tree_, tmp_ / "third.img");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->data.cache_corrupt, 0u);
  EXPECT_EQ(third->data.blocks_compressed, 0u);
}

TEST_F(BlockCacheTest, ImagesBuiltTogetherShareCompressedBlocks) {
  std::string src2 = tmp_ / "src2";
  ASSERT_EQ(testing::run("cp -a '" + src_ + "' '" + src2 + "'").status, 0);
  testing::write_text(src2 + "/etc/only-in-two", "extra\n");
  FsTree two = scan(src2);
  auto stats = write_squashfs_images({{&tree_, tmp_ / "one.img"}, {&two, tmp_ / "two.img"}},
                                     opts_, "");
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ((*stats)[1].data.blocks_compressed, 0u);
  EXPECT_EQ((*stats)[1].data.blocks_from_cache, (*stats)[0].data.blocks_compressed);
  EXPECT_GT((*stats)[1].data.fragment_blocks_from_cache, 0u);
  // The temporary store is gone; only the two images remain beside the source.
  for (auto& e : fs::directory_iterator(tmp_.path()))
    EXPECT_EQ(e.path().filename().string().find(".nestbox-blocks"), std::string::npos);
  Mount m("squashfs", tmp_ / "two.img", tmp_ / "mnt", "loop,ro");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(diff_trees(two, scan(tmp_ / "mnt")), "");
}

}  // namespace
}  // namespace nestbox::composer::squashfs
