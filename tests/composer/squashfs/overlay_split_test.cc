// The overlay strategy: base + per-container layers, mounted by the kernel as
// overlay(lowerdir = layer:base), equal the container trees.
#include <gtest/gtest.h>

#include <filesystem>

#include "composer/squashfs/overlay_split.h"
#include "composer/squashfs/squashfs_writer.h"
#include "tests/composer/squashfs/test_support.h"

namespace nestbox::composer::squashfs {
namespace {

using testing::diff_trees;
using testing::Mount;
using testing::run;
using testing::scan;
using testing::TempDir;
namespace fs = std::filesystem;

const FsEntry* find(const FsTree& t, const std::string& path) {
  for (const auto& e : t.entries)
    if (e.path == path) return &e;
  return nullptr;
}

class OverlaySplitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string one = tmp_ / "c1", two = tmp_ / "c2", three = tmp_ / "c3";
    fs::create_directories(one);
    testing::make_fixture(one);
    ASSERT_EQ(run("cp -a '" + one + "' '" + two + "' && cp -a '" + one + "' '" + three + "'").status, 0);
    // c2: no /etc/config (a directory whiteout), a changed file, an extra file.
    fs::remove_all(two + "/etc/config");
    testing::write_text(two + "/etc/passwd", "root:x:0:0::/root:/bin/ash\n");
    testing::write_text(two + "/srv/www/index.html", "<h1>two</h1>\n");
    // c3: no /sbin/ping (a file whiteout), /home/user owned by someone else.
    fs::remove(three + "/sbin/ping");
    ASSERT_EQ(::lchown((three + "/home/user").c_str(), 2000, 2000), 0);
    for (const auto& d : {one, two, three}) trees_.push_back(scan(d));
  }

  void expect_overlay_equals(const std::string& base_img, const std::string& layer_img,
                             const FsTree& want, const std::string& name) {
    Mount b("squashfs", base_img, tmp_ / ("mnt-base-" + name), "loop,ro");
    Mount l("squashfs", layer_img, tmp_ / ("mnt-layer-" + name), "loop,ro");
    ASSERT_TRUE(b.ok() && l.ok()) << b.error() << l.error();
    std::string merged = tmp_ / ("merged-" + name);
    Mount o("overlay", "overlay", merged,
            "ro,lowerdir=" + (tmp_ / ("mnt-layer-" + name)) + ":" + (tmp_ / ("mnt-base-" + name)));
    ASSERT_TRUE(o.ok()) << o.error();
    EXPECT_EQ(diff_trees(want, scan(merged)), "") << name;
  }

  TempDir tmp_;
  std::vector<FsTree> trees_;
};

TEST_F(OverlaySplitTest, AutomaticBaseMountsAsEachContainer) {
  std::vector<const FsTree*> ptrs;
  for (const auto& t : trees_) ptrs.push_back(&t);
  auto split = split_overlay(ptrs);
  ASSERT_TRUE(split.ok()) << split.error().message;
  // Shared by >= 2 containers: in the base. Changed or unique: only in layers.
  EXPECT_NE(find(split->base, "/bin/busybox"), nullptr);
  EXPECT_NE(find(split->base, "/sbin/ping"), nullptr);     // c1 and c2
  EXPECT_NE(find(split->base, "/etc/passwd"), nullptr);    // c1 and c3
  EXPECT_EQ(find(split->base, "/srv/www/index.html"), nullptr);
  EXPECT_EQ(find(split->layers[0], "/bin/busybox"), nullptr);
  const FsEntry* wh = find(split->layers[1], "/etc/config");
  ASSERT_NE(wh, nullptr);
  EXPECT_EQ(wh->type, EntryType::kCharDevice);
  EXPECT_EQ(wh->rdev_major + wh->rdev_minor, 0u);
  EXPECT_EQ(find(split->layers[1], "/etc/config/network"), nullptr);  // the dir whiteout covers it
  EXPECT_NE(find(split->layers[1], "/etc/passwd"), nullptr);
  ASSERT_NE(find(split->layers[2], "/sbin/ping"), nullptr);
  EXPECT_EQ(find(split->layers[2], "/sbin/ping")->type, EntryType::kCharDevice);
  EXPECT_EQ(find(split->layers[2], "/home/user")->uid, 2000u);

  SquashOptions o;
  o.compressor.name = "zstd";
  o.threads = 2;
  std::vector<ImageRequest> reqs{{&split->base, tmp_ / "base.img"}};
  for (size_t i = 0; i < 3; ++i)
    reqs.push_back({&split->layers[i], tmp_ / ("layer" + std::to_string(i) + ".img")});
  auto stats = write_squashfs_images(reqs, o, "");
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  for (size_t i = 0; i < 3; ++i)
    expect_overlay_equals(tmp_ / "base.img", reqs[i + 1].out, trees_[i], std::to_string(i));
  // The layers are small next to the base.
  for (size_t i = 1; i < 4; ++i) EXPECT_LT((*stats)[i].bytes_used * 3, (*stats)[0].bytes_used);
}

TEST_F(OverlaySplitTest, NamedBase) {
  // c1 as the named base: c2 and c3 become layers over it.
  auto split = split_overlay_with_base(trees_[0], {&trees_[1], &trees_[2]});
  ASSERT_TRUE(split.ok()) << split.error().message;
  SquashOptions o;
  o.compressor.name = "lz4";
  auto stats = write_squashfs_images({{&split->base, tmp_ / "base.img"},
                                      {&split->layers[0], tmp_ / "l2.img"},
                                      {&split->layers[1], tmp_ / "l3.img"}},
                                     o, "");
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  expect_overlay_equals(tmp_ / "base.img", tmp_ / "l2.img", trees_[1], "two");
  expect_overlay_equals(tmp_ / "base.img", tmp_ / "l3.img", trees_[2], "three");
}

TEST(OverlaySplit, RefusesTreesWithoutHashes) {
  FsTree a;
  a.entries.push_back({"/", EntryType::kDirectory, 0755});
  FsEntry f;
  f.path = "/f";
  f.size = 3;
  a.entries.push_back(f);
  auto r = split_overlay({&a, &a});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "overlay split: /f: no content hash");
}

// XXH3 is not collision resistant and an app store's package is a third
// party's bytes: two containers' files at one path with equal size and hash
// but different bytes never become one base file (a forged hash stands in for
// a crafted collision), neither compared by their sources nor when the index
// gave them different content ids.
TEST_F(OverlaySplitTest, EqualHashesAloneNeverShareContent) {
  std::string one = tmp_ / "h1", two = tmp_ / "h2";
  fs::create_directories(one);
  fs::create_directories(two);
  testing::write_text(one + "/tool", "the real tool\n");
  testing::write_text(two + "/tool", "an evil tool!\n");  // same length
  testing::write_text(one + "/same", "shared bytes\n");
  testing::write_text(two + "/same", "shared bytes\n");
  ASSERT_EQ(run("touch -h -d @1700000000 " + one + " " + one + "/* " + two + " " + two + "/*").status, 0);
  FsTree a = scan(one), b = scan(two);
  FsEntry* ta = nullptr;
  FsEntry* tb = nullptr;
  for (auto& e : a.entries) if (e.path == "/tool") ta = &e;
  for (auto& e : b.entries) if (e.path == "/tool") tb = &e;
  ASSERT_TRUE(ta && tb);
  ASSERT_EQ(ta->size, tb->size);
  tb->hash = ta->hash;  // the collision

  auto base_has = [&](const FsTree& x, const FsTree& y, const std::string& path) {
    auto split = split_overlay({&x, &y});
    EXPECT_TRUE(split.ok()) << split.error().message;
    return split.ok() && find(split->base, path) != nullptr;
  };
  EXPECT_FALSE(base_has(a, b, "/tool"));  // not indexed: the bytes are compared
  EXPECT_TRUE(base_has(a, b, "/same"));   // identical files still share
  ta->content_id = 1;
  tb->content_id = 2;  // the index compared them: different content
  EXPECT_FALSE(base_has(a, b, "/tool"));
  tb->content_id = 1;
  EXPECT_TRUE(base_has(a, b, "/tool"));  // the index said identical
}

}  // namespace
}  // namespace nestbox::composer::squashfs
