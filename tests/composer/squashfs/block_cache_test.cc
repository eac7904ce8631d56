// The compressed-block store: warm builds reuse blocks and give the same
// bytes; a corrupt entry is detected, never used, and rebuilt; several images
// share one store.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "composer/squashfs/block_cache_gc.h"
#include "composer/squashfs/block_store.h"
#include "composer/squashfs/compressor.h"
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
    std::sort(out.begin(), out.end());
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

// A file of many blocks is stored block by block: changing a few bytes in
// the middle of a big file recompresses the block they are in, not the file,
// and the image is the bytes a cold build of the changed tree gives.
TEST_F(BlockCacheTest, ASmallChangeToABigFileRecompressesOnlyItsBlock) {
  std::string big = src_ + "/usr/lib/big.bin";
  fs::create_directories(src_ + "/usr/lib");
  testing::write_file(big, 40 * 32768 + 1000, 7);  // 40 full blocks and a tail
  FsTree before = scan(src_);
  ASSERT_TRUE(build(before, tmp_ / "a.img").ok());
  {
    std::string b = file_bytes(big);
    b.replace(20 * 32768 + 100, 9, "one line\n");
    testing::write_text(big, b);
  }
  FsTree changed = scan(src_);
  auto w = build(changed, tmp_ / "b.img");
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->data.blocks_compressed, 1u);
  EXPECT_GE(w->data.blocks_from_cache, 39u);
  auto cold = write_squashfs(changed, tmp_ / "cold.img", opts_);
  ASSERT_TRUE(cold.ok()) << cold.error().message;
  EXPECT_TRUE(file_bytes(tmp_ / "b.img") == file_bytes(tmp_ / "cold.img"));
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
  // Every entry is found corrupt (one stored block a file repeats is looked
  // up once per repetition).
  EXPECT_GE(r->data.cache_corrupt, files.size());
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

// The store of one run keeps its entries in one file and gives the images the
// same bytes a directory store (and no store) gives; what it returns is what
// was put, by key.
TEST_F(BlockCacheTest, OneRunStoreIsOneFileAndGivesTheSameImages) {
  fs::create_directories(tmp_ / "run");
  auto store = BlockStore::open_for_one_run(tmp_ / "run");
  ASSERT_TRUE(store.ok()) << store.error().message;
  std::string src2 = tmp_ / "src2";
  ASSERT_EQ(testing::run("cp -a '" + src_ + "' '" + src2 + "'").status, 0);
  testing::write_text(src2 + "/etc/only-in-two", "extra\n");
  FsTree two = scan(src2);
  auto first = write_squashfs(tree_, tmp_ / "one.img", opts_, &*store);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = write_squashfs(two, tmp_ / "two.img", opts_, &*store);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->data.blocks_compressed, 0u);
  EXPECT_EQ(second->data.blocks_from_cache, first->data.blocks_compressed);
  EXPECT_GT(second->data.fragment_blocks_from_cache, 0u);
  EXPECT_EQ(store->stats().corrupt, 0u);
  size_t files = 0;
  for (auto& e : fs::recursive_directory_iterator(tmp_ / "run")) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
  // Byte-identical to images built with no store at all.
  ASSERT_TRUE(write_squashfs(two, tmp_ / "two-plain.img", opts_).ok());
  EXPECT_TRUE(file_bytes(tmp_ / "two.img") == file_bytes(tmp_ / "two-plain.img"));

  StoreKey a{1, 2}, b{3, 4};
  ASSERT_TRUE(store->put(a, StoreEntry{{5}, "abcde"}).ok());
  ASSERT_TRUE(store->put(b, StoreEntry{{3, 2}, "xyzuv"}).ok());
  StoreEntry got;
  ASSERT_EQ(store->get(a, 131072, &got), BlockStore::Lookup::kHit);
  EXPECT_EQ(got.data, "abcde");
  EXPECT_EQ(got.words, std::vector<uint32_t>{5});
  ASSERT_EQ(store->get(b, 131072, &got), BlockStore::Lookup::kHit);
  EXPECT_EQ(got.data, "xyzuv");
  EXPECT_EQ(store->get(StoreKey{9, 9}, 131072, &got), BlockStore::Lookup::kMiss);
}

// Content the run's index numbered (content_id: equal bytes) and an earlier
// image of the run wrote is taken from the store, blocks and tail, without
// reading the file again: the images equal those built with no store, and a
// file that changed behind the index's back after the first image does not
// reach the second (it is not read).
TEST_F(BlockCacheTest, OneRunStoreTakesIndexedContentWithoutReadingItAgain) {
  testing::write_file(src_ + "/usr/lib/big", 9 * 32768 + 1234, 7);   // block by block
  testing::write_file(src_ + "/usr/lib/mid", 3 * 32768 + 99, 8);     // one entry
  tree_ = scan(src_);
  std::string src2 = tmp_ / "src2";
  ASSERT_EQ(testing::run("cp -a '" + src_ + "' '" + src2 + "'").status, 0);
  FsTree two = scan(src2);
  // Numbered as the content index numbers them: equal bytes, one id.
  std::map<std::string, uint32_t> ids;
  auto number = [&](FsTree& t) {
    for (FsEntry& e : t.entries)
      if (e.type == EntryType::kRegular)
        e.content_id = ids.emplace(file_bytes(e.source_path), ids.size()).first->second;
  };
  number(tree_);
  number(two);
  ASSERT_TRUE(write_squashfs(two, tmp_ / "plain.img", opts_).ok());

  fs::create_directories(tmp_ / "run");
  auto store = BlockStore::open_for_one_run(tmp_ / "run");
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto first = write_squashfs(tree_, tmp_ / "one.img", opts_, &*store);
  ASSERT_TRUE(first.ok()) << first.error().message;
  // Same sizes, other bytes: the index's promise broken on purpose.
  for (const char* f : {"/usr/lib/big", "/usr/lib/mid", "/usr/share/doc/f3"})
    testing::write_file(src2 + f, fs::file_size(src2 + f), 99);
  auto second = write_squashfs(two, tmp_ / "two.img", opts_, &*store);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->data.blocks_compressed, 0u);
  EXPECT_EQ(second->data.blocks_from_cache, first->data.blocks_compressed);
  EXPECT_EQ(second->data.fragment_blocks_from_cache, second->data.fragment_blocks);
  EXPECT_TRUE(file_bytes(tmp_ / "two.img") == file_bytes(tmp_ / "plain.img"));
  // Numbered content is stored under its id (no SHA-256 of its bytes):
  // big's first block under (id, 0), not under the digest of its bytes.
  auto comp = make_compressor(opts_.compressor, opts_.block_size, {});
  ASSERT_TRUE(comp.ok());
  std::string big = file_bytes(src_ + "/usr/lib/big");
  StoreEntry entry;
  EXPECT_EQ(store->get(make_store_key(EntryKind::kRunDataBlock, run_digest({ids.at(big), 0}), comp->fingerprint),
                       opts_.block_size, &entry),
            BlockStore::Lookup::kHit);
  EXPECT_EQ(store->get(make_store_key(EntryKind::kDataBlock, content_digest(big.data(), opts_.block_size),
                                      comp->fingerprint),
                       opts_.block_size, &entry),
            BlockStore::Lookup::kMiss);
}

}  // namespace
}  // namespace nestbox::composer::squashfs

namespace nestbox::composer::squashfs {
namespace {

using BlockCacheGc = BlockCacheTest;

uint64_t bytes_of(const std::vector<std::string>& files) {
  uint64_t n = 0;
  for (const std::string& f : files) n += fs::file_size(f);
  return n;
}

// Evicting to a limit keeps the cache within it, and a build afterwards still
// gives the same bytes (an evicted block is a miss, compressed again).
TEST_F(BlockCacheGc, ShrinksToTheLimitAndBuildsStayIdentical) {
  std::string cold = tmp_ / "cold.img", after = tmp_ / "after.img";
  ASSERT_TRUE(build(tree_, cold).ok());
  uint64_t total = bytes_of(entries());
  size_t count = entries().size();
  auto r = collect_block_cache(tmp_ / "cache", total / 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entries, count);
  EXPECT_EQ(r->bytes, total);
  EXPECT_GT(r->evicted_entries, 0u);
  EXPECT_LE(bytes_of(entries()), total / 2);
  EXPECT_EQ(bytes_of(entries()), total - r->evicted_bytes);
  EXPECT_EQ(entries().size(), count - r->evicted_entries);
  auto w = build(tree_, after);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_GT(w->data.blocks_compressed + w->data.fragment_blocks - w->data.fragment_blocks_from_cache, 0u);
  EXPECT_TRUE(file_bytes(cold) == file_bytes(after));
  auto none = collect_block_cache(tmp_ / "cache", 0);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(entries(), std::vector<std::string>{});
}

// Least recently used first: blocks the last build used survive, blocks only
// an older build used go.
TEST_F(BlockCacheGc, EvictsWhatNoRecentBuildUsed) {
  ASSERT_TRUE(build(tree_, tmp_ / "a.img").ok());
  std::vector<std::string> first = entries();
  std::string other = tmp_ / "other";
  fs::create_directories(other);
  for (int i = 0; i < 8; ++i) testing::write_file(other + "/g" + std::to_string(i), 70000 + i, 7 + i);
  FsTree other_tree = scan(other);
  // File times come from the kernel's coarse clock (a tick of a few ms): the
  // phases are a tick apart so "more recently used" is visible in the mtimes.
  auto next_tick = [] { ::usleep(30 * 1000); };
  next_tick();
  ASSERT_TRUE(build(other_tree, tmp_ / "b.img").ok());
  next_tick();
  auto again = build(tree_, tmp_ / "a2.img");  // uses (refreshes) only the first tree's blocks
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->data.blocks_compressed, 0u);
  ASSERT_EQ(again->data.fragment_blocks_from_cache, again->data.fragment_blocks);
  auto r = collect_block_cache(tmp_ / "cache", bytes_of(first));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(entries(), first);
  auto warm = build(tree_, tmp_ / "a3.img");
  ASSERT_TRUE(warm.ok());
  EXPECT_EQ(warm->data.blocks_compressed, 0u);
  EXPECT_EQ(warm->data.fragment_blocks_from_cache, warm->data.fragment_blocks);
}

// A path that is not a block cache is refused before anything is deleted;
// temporary files of writers that are gone are swept, a live writer's kept.
TEST_F(BlockCacheGc, RefusesForeignFilesAndSweepsDeadWritersTemporaries) {
  ASSERT_TRUE(build(tree_, tmp_ / "a.img").ok());
  std::vector<std::string> before = entries();
  std::string sub = before.front().substr(0, before.front().rfind('/'));
  std::string name = before.front().substr(sub.size() + 1);
  std::string dead = sub + "/" + name + ".tmp.999999999", live = sub + "/" + name + ".tmp." + std::to_string(getpid());
  testing::write_text(dead, "torn");
  testing::write_text(live, "being written");
  testing::write_text(tmp_ / "cache/notes.txt", "mine");
  auto refused = collect_block_cache(tmp_ / "cache", 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, tmp_ / "cache" + ": 'notes.txt' is not part of a block cache; expected only "
                                                      "two-hex-digit directories (refusing to delete anything)");
  EXPECT_TRUE(fs::exists(dead));
  EXPECT_EQ(entries().size(), before.size() + 3);
  fs::remove(tmp_ / "cache/notes.txt");
  auto r = collect_block_cache(tmp_ / "cache", UINT64_MAX);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->stale_temporaries, 1u);
  EXPECT_EQ(r->evicted_entries, 0u);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
}

// compose and squash keep a --cache within --cache-max-size after every
// build (default 1G), least recently used first: the blocks the build just
// used stay, an older build's go, and the next build of the same tree
// compresses nothing.
TEST_F(BlockCacheGc, SquashTrimsTheCacheAfterEachBuild) {
  const std::string nestbox = std::string(NESTBOX_BINARY_DIR) + "/cli/nestbox";
  auto squash = [&](const std::string& args) {
    auto r = testing::run(nestbox + " squash --comp zstd --block-size 32K --threads 2 --json " + args +
                          " 2>&1");
    EXPECT_EQ(r.status, 0) << r.output;
    try {
      return nlohmann::json::parse(r.output);
    } catch (const std::exception&) {
      ADD_FAILURE() << r.output;
      return nlohmann::json();
    }
  };
  auto cache_bytes = [](const std::string& dir) {
    uint64_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file()) n += e.file_size();
    return n;
  };
  // What the fixture alone needs.
  squash("--cache " + (tmp_ / "alone") + " " + src_ + " " + (tmp_ / "alone.img"));
  uint64_t need = cache_bytes(tmp_ / "alone");
  ASSERT_GT(need, 0u);

  std::string other = tmp_ / "other";
  fs::create_directories(other);
  for (int i = 0; i < 8; ++i) testing::write_file(other + "/g" + std::to_string(i), 70000 + i, 7 + i);
  nlohmann::json first = squash("--cache " + (tmp_ / "c") + " " + other + " " + (tmp_ / "b.img"));
  ASSERT_TRUE(first.contains("block_cache_gc")) << first.dump();
  EXPECT_EQ(first["block_cache_gc"]["max_bytes"], 1ull << 30);  // the default
  EXPECT_EQ(first["block_cache_gc"]["evicted_entries"], 0);
  ::usleep(30 * 1000);  // a tick of the coarse clock file times come from
  nlohmann::json second = squash("--cache " + (tmp_ / "c") + " --cache-max-size " + std::to_string(need) +
                                 " " + src_ + " " + (tmp_ / "a.img"));
  EXPECT_GT(second["block_cache_gc"]["evicted_entries"].get<uint64_t>(), 0u) << second.dump();
  EXPECT_EQ(cache_bytes(tmp_ / "c"), need);  // exactly this build's blocks are left
  nlohmann::json third = squash("--cache " + (tmp_ / "c") + " --cache-max-size " + std::to_string(need) +
                                " " + src_ + " " + (tmp_ / "a2.img"));
  EXPECT_EQ(third["images"][0]["blocks_compressed"], 0);
  EXPECT_EQ(third["images"][0]["fragment_blocks_from_cache"], third["images"][0]["fragment_blocks"]);
  EXPECT_EQ(third["block_cache_gc"]["evicted_entries"], 0);
  EXPECT_TRUE(file_bytes(tmp_ / "a.img") == file_bytes(tmp_ / "a2.img"));
  // 0: no limit; a bad size is refused before anything is built.
  nlohmann::json unlimited = squash("--cache " + (tmp_ / "c") + " --cache-max-size 0 " + other + " " +
                                    (tmp_ / "b2.img"));
  EXPECT_FALSE(unlimited.contains("block_cache_gc"));
  EXPECT_GT(cache_bytes(tmp_ / "c"), need);
  auto bad = testing::run(nestbox + " squash --cache " + (tmp_ / "c") + " --cache-max-size lots " + src_ +
                          " " + (tmp_ / "x.img") + " 2>&1");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("--cache-max-size 'lots': expected a size such as 512M or 2G"),
            std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(tmp_ / "x.img"));
}

// The store is keyed by SHA-256, never by the content index's XXH3: a third
// party's file crafted to collide in XXH3 with another container's file must
// not be handed that file's blocks (one compose run shares one store across
// every container). The key is the first 128 bits of SHA-256(kind, SHA-256 of
// the content, fingerprint), checked against the openssl tool.
TEST(BlockStoreKey, IsSha256OfKindContentDigestAndFingerprint) {
  TempDir tmp;
  const std::string content = "the bytes of one file\n", fingerprint = "zstd:15:0:131072";
  ContentDigest d = content_digest(content.data(), content.size());
  testing::write_text(tmp / "content", content);
  auto hex = [](const uint8_t* p, size_t n) {
    std::string out;
    char b[3];
    for (size_t i = 0; i < n; ++i) snprintf(b, sizeof b, "%02x", p[i]), out += b;
    return out;
  };
  auto sha = testing::run("openssl dgst -sha256 -r " + (tmp / "content") + " | cut -c1-64");
  EXPECT_EQ(sha.output, hex(d.bytes.data(), d.bytes.size()) + "\n");
  // kind byte 1 (file blocks), the content digest, the fingerprint.
  std::string keyed(1, '\x01');
  keyed.append(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size());
  keyed += fingerprint;
  testing::write_text(tmp / "keyed", keyed);
  auto want = testing::run("openssl dgst -sha256 -r " + (tmp / "keyed") + " | cut -c1-32");
  StoreKey k = make_store_key(EntryKind::kFileBlocks, d, fingerprint);
  uint8_t raw[16];
  std::memcpy(raw, &k.high, 8);
  std::memcpy(raw + 8, &k.low, 8);
  EXPECT_EQ(want.output, hex(raw, 16) + "\n");
  // Another kind or fingerprint, another key.
  EXPECT_NE(make_store_key(EntryKind::kFragmentBlock, d, fingerprint), k);
  EXPECT_NE(make_store_key(EntryKind::kFileBlocks, d, "xz:6:0:131072"), k);
}

// A one-run store keys an indexed content's entries by its content id
// (run_digest of the numbers, little-endian). Bytes made to equal such a
// preimage get the same digest, but never the same key: the kind is hashed
// into every key, and the two families have kinds of their own.
TEST(BlockStoreKey, RunKeysAreAFamilyOfTheirOwn) {
  TempDir tmp;
  std::string preimage;
  for (uint64_t v : {uint64_t{7}, uint64_t{3}})
    for (int i = 0; i < 8; ++i) preimage += static_cast<char>(v >> (8 * i));
  testing::write_text(tmp / "preimage", preimage);
  ContentDigest run = run_digest({7, 3});
  auto sha = testing::run("openssl dgst -sha256 -r " + (tmp / "preimage") + " | cut -c1-64");
  std::string hex;
  for (uint8_t b : run.bytes) {
    char x[3];
    snprintf(x, sizeof x, "%02x", b);
    hex += x;
  }
  EXPECT_EQ(sha.output, hex + "\n");
  ContentDigest bytes = content_digest(preimage.data(), preimage.size());
  ASSERT_EQ(bytes.bytes, run.bytes);
  const std::string fp = "lz4:0:0:131072";
  EXPECT_NE(make_store_key(EntryKind::kFragmentBlock, bytes, fp), make_store_key(EntryKind::kRunDataBlock, run, fp));
  EXPECT_NE(make_store_key(EntryKind::kFragmentBlock, bytes, fp), make_store_key(EntryKind::kRunFragmentBlock, run, fp));
  EXPECT_NE(make_store_key(EntryKind::kFileBlocks, bytes, fp), make_store_key(EntryKind::kRunFileBlocks, run, fp));
  EXPECT_NE(make_store_key(EntryKind::kDataBlock, bytes, fp), make_store_key(EntryKind::kRunDataBlock, run, fp));
}

}  // namespace
}  // namespace nestbox::composer::squashfs
