#include "composer/plan.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/composer/test_util.h"

namespace nestbox::composer {
namespace {

namespace fs = std::filesystem;
using manifests::Manifest;
using manifests::RootfsStrategy;
using testing::TempDir;

Manifest container(const std::string& root, const std::string& name, std::vector<std::string> include) {
  Manifest m;
  m.name = name;
  m.arch = manifests::Arch::kAarch64;
  m.rootfs.strategy = RootfsStrategy::kTree;
  m.rootfs.sources.push_back({.path = root});
  m.rootfs.binaries = {"/bin/busybox"};
  m.rootfs.include = std::move(include);
  return m;
}

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why, cache = testing::foreign_roots(&why);
    if (cache.empty()) GTEST_SKIP() << why;
    std::string root = cache + "/arm64/root";
    ms_ = {container(root, "a", {"/usr/lib/aarch64-linux-gnu/gconv/IBM9*"}),
           container(root, "b", {"/usr/lib/aarch64-linux-gnu/gconv/IBM93*"}),
           container(root, "c", {"/etc/**"})};
    ms_[2].rootfs.files.push_back({.path = "/etc/motd", .content = "hello"});
    for (auto& m : ms_) {
      auto c = prepare_container(m, dir_ / ("scratch-" + m.name), {}, &notes_);
      ASSERT_TRUE(c.ok()) << c.error().message;
      cs_.push_back(std::move(*c));
    }
    std::vector<FsTree*> trees;
    for (auto& c : cs_) trees.push_back(&c.tree);
    auto idx = ContentIndex::build(trees, 2);
    ASSERT_TRUE(idx.ok());
    index_ = std::make_unique<ContentIndex>(std::move(*idx));
  }

  TempDir dir_;
  std::vector<Manifest> ms_;
  std::vector<ComposedContainer> cs_;
  std::vector<std::string> notes_;
  std::unique_ptr<ContentIndex> index_;
};

TEST_F(PlanTest, SquashfsEstimateMatchesMksquashfs) {
  if (access("/usr/bin/mksquashfs", X_OK) != 0) GTEST_SKIP() << "squashfs-tools not installed";
  auto plan = make_plan(std::span(cs_).subspan(0, 1), *index_, 2);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  // Write the same tree and pack it for real.
  auto writers = default_writers();
  std::vector<OutputWriter*> ptrs = {writers[0].get()};
  ComposeOptions o;
  o.out_dir = dir_ / "out";
  ASSERT_TRUE(compose({ms_[0]}, o, ptrs).ok());
  int st = 0;
  testing::run("mksquashfs " + dir_ / "out/a " + dir_ / "a.sqfs" +
                   " -comp xz -b 131072 -noappend -quiet >/dev/null 2>&1",
               &st);
  ASSERT_EQ(st, 0);
  double real = fs::file_size(dir_ / "a.sqfs");
  double est = plan->rows[0].flash_bytes;
  EXPECT_NEAR(est / real, 1.0, 0.05) << "estimate " << est << " vs mksquashfs " << real;
}

TEST_F(PlanTest, StrategiesReflectSharing) {
  auto plan = make_plan(cs_, *index_, 2);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->rows.size(), 4u);
  const auto& sq = plan->rows[0];
  const auto& ov = plan->rows[1];
  const auto& hh = plan->rows[2];
  const auto& tr = plan->rows[3];
  EXPECT_EQ(sq.strategy, RootfsStrategy::kSquashfs);
  EXPECT_EQ(tr.strategy, RootfsStrategy::kTree);
  // busybox + libc are in all three, the IBM93* gconv modules in a and b.
  EXPECT_LT(tr.flash_bytes, sq.flash_bytes);
  EXPECT_LT(ov.flash_bytes, sq.flash_bytes);
  EXPECT_EQ(sq.page_cache_shared, 0u);
  EXPECT_GT(tr.page_cache_shared, 0u);
  EXPECT_EQ(ov.page_cache_shared, tr.page_cache_shared);
  // Only /etc/motd is not a host file: host-hardlink stores a tiny image.
  EXPECT_GT(hh.flash_bytes, 0u);
  EXPECT_LE(hh.flash_bytes, 8192u);
  EXPECT_EQ(hh.page_cache_shared, plan->unique_bytes - 5);
  EXPECT_TRUE(sq.standalone);
  EXPECT_FALSE(hh.standalone);
  EXPECT_LT(plan->unique_bytes, plan->file_bytes);
  std::string text = plan_to_text(*plan);
  EXPECT_NE(text.find("host-hardlink"), std::string::npos);
  EXPECT_NE(plan_to_json(*plan).find("\"page_cache_shared_bytes\""), std::string::npos);
}

TEST(Plan, CompressedSizeDependsOnContent) {
  TempDir d;
  testing::write(d / "zeros", std::string(300000, '\0'));
  std::string noise(300000, '\0');
  uint32_t x = 1;
  for (auto& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  testing::write(d / "noise", noise);
  for (auto c : {manifests::Compressor::kXz, manifests::Compressor::kGzip,
                 manifests::Compressor::kZstd, manifests::Compressor::kLz4}) {
    auto z = compressed_file_size(d / "zeros", c, 131072);
    auto n = compressed_file_size(d / "noise", c, 131072);
    ASSERT_TRUE(z.ok() && n.ok()) << manifests::to_string(c);
    EXPECT_LT(*z, 3000u) << manifests::to_string(c);
    EXPECT_EQ(*n, 300000u) << manifests::to_string(c);  // incompressible blocks stored raw
  }
}

}  // namespace
}  // namespace nestbox::composer
