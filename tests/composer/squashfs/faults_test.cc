// Bad input and faults: clear errors, no partial image at the target path, a
// previous image untouched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <stdio.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "composer/squashfs/fs_tree_from_directory.h"
#include "composer/squashfs/squashfs_writer.h"
#include "composer/squashfs/tree_layout.h"
#include "tests/composer/squashfs/test_support.h"

namespace nestbox::composer::squashfs {
namespace {

using testing::file_bytes;
using testing::Mount;
using testing::TempDir;
namespace fs = std::filesystem;

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

FsTree tiny_tree(const std::string& file) {
  FsTree t;
  t.entries.push_back({"/", EntryType::kDirectory, 0755});
  FsEntry f;
  f.path = "/f";
  f.mode = 0644;
  f.source_path = file;
  f.size = fs::file_size(file);
  t.entries.push_back(f);
  return t;
}

class FaultsTest : public ::testing::Test {
 protected:
  SquashOptions opts() {
    SquashOptions o;
    o.compressor.name = "gzip";
    o.threads = 2;
    return o;
  }
  TempDir tmp_;
};

TEST_F(FaultsTest, FileTooBigForSquashfs) {
  // A 5 TiB sparse file: with 4 KiB blocks an inode cannot list its blocks.
  std::string src = tmp_ / "src";
  fs::create_directories(src);
  int fd = ::open((src + "/huge").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 5ll << 40), 0);
  ::close(fd);
  DirectoryScanOptions so;
  so.hash = false;
  auto tree = fs_tree_from_directory(src, so);
  ASSERT_TRUE(tree.ok());
  auto o = opts();
  o.block_size = 4096;
  std::string out = tmp_ / "out.img";
  auto r = write_squashfs(*tree, out, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(r.error().message, "squashfs " + out + ": fs tree: /huge: file of 5497558138880 bytes "
            "exceeds the squashfs limit of " + std::to_string(squashfs_max_file_size(4096)) +
            " bytes for block size 4096");
  EXPECT_EQ(listing(tmp_.path()), std::vector<std::string>{"src"});
}

// `nestbox squash DIR` walked DIR by path: a directory swapped for a symlink
// to the host's /etc (a racer exchanging DIR/d and DIR/l -> HOST) made the
// walk list HOST's files as /d/... and record their inodes, so the writer's
// inode check passed and they were packed. The walk is now the composer's
// fd-relative one: a swapped directory is refused or seen as the symlink it
// is, never entered.
TEST_F(FaultsTest, DirectorySwappedForASymlinkDuringTheWalkIsNeverEntered) {
  std::string dir = tmp_ / "src", host = tmp_ / "host";
  constexpr int kPairs = 8;  // each walk meets every pair: more chances per walk
  for (int i = 0; i < kPairs; ++i) {
    testing::write_file(dir + "/d" + std::to_string(i) + "/sub/f", 10, i);
    ASSERT_EQ(::symlink(host.c_str(), (dir + "/l" + std::to_string(i)).c_str()), 0);
  }
  testing::write_file(host + "/host-only-secret", 7, 1);
  fs::create_directories(host + "/sub");
  struct stat secret;
  ASSERT_EQ(::stat((host + "/host-only-secret").c_str(), &secret), 0);
  std::atomic<bool> stop{false};
  std::thread racer([&] {
    for (int i = 0; !stop; i = (i + 1) % kPairs)
      ::renameat2(AT_FDCWD, (dir + "/d" + std::to_string(i)).c_str(), AT_FDCWD,
                  (dir + "/l" + std::to_string(i)).c_str(), RENAME_EXCHANGE);
  });
  int walks = 0, leaks = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  DirectoryScanOptions so;
  so.hash = false;
  while (std::chrono::steady_clock::now() < until) {
    auto tree = fs_tree_from_directory(dir, so);
    ++walks;
    if (!tree.ok()) continue;  // refused: the directory changed under the walk
    for (const FsEntry& e : tree->entries)
      if (e.path.find("host-only-secret") != std::string::npos || e.source_ino == secret.st_ino) ++leaks;
  }
  stop = true;
  racer.join();
  EXPECT_GT(walks, 10);
  EXPECT_EQ(leaks, 0) << "the host's file was listed in " << leaks << " of " << walks << " walks";
}

TEST_F(FaultsTest, ConfiguredFileSizeLimit) {
  std::string f = tmp_ / "f";
  testing::write_file(f, 5000, 1);
  auto o = opts();
  o.max_file_size = 4096;
  auto r = write_squashfs(tiny_tree(f), tmp_ / "o.img", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/f: file of 5000 bytes exceeds the squashfs limit of 4096"),
            std::string::npos)
      << r.error().message;
}

TEST_F(FaultsTest, CompressorTheTargetKernelLacks) {
  std::string f = tmp_ / "f";
  testing::write_text(f, "x");
  auto o = opts();
  o.compressor.name = "xz";
  o.allowed_compressors = {"gzip", "lz4"};
  std::string out = tmp_ / "o.img";
  auto r = write_squashfs(tiny_tree(f), out, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(r.error().message, "squashfs " + out + ": compressor 'xz': the target kernel does not "
            "support it (CONFIG_SQUASHFS_XZ not set; the kernel has: gzip, lz4)");
  o.compressor.name = "brotli";
  r = write_squashfs(tiny_tree(f), out, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "squashfs " + out + ": compressor 'brotli': unknown (expected one "
            "of: gzip, lzo, lzma, xz, lz4, zstd)");
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(FaultsTest, BadBlockSize) {
  std::string f = tmp_ / "f";
  testing::write_text(f, "x");
  auto o = opts();
  o.block_size = 100000;
  auto r = write_squashfs(tiny_tree(f), tmp_ / "o.img", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("block size 100000: expected a power of two from 4096 to 1048576"),
            std::string::npos);
}

TEST_F(FaultsTest, NoSpaceLeavesPreviousImageUntouched) {
  std::string out_dir = tmp_ / "small";
  Mount m("tmpfs", "tmpfs", out_dir, "size=64k");
  ASSERT_TRUE(m.ok()) << m.error();
  std::string small = tmp_ / "small-src", big = tmp_ / "big-src";
  testing::write_text(small, "old image\n");
  std::string img = out_dir + "/rootfs.img";
  ASSERT_TRUE(write_squashfs(tiny_tree(small), img, opts()).ok());
  std::string before = file_bytes(img);
  // 1 MiB of incompressible bytes cannot fit in what is left.
  std::string noise(1 << 20, '\0');
  uint64_t x = 88172645463325252ull;
  for (char& c : noise) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  testing::write_text(big, noise);
  auto r = write_squashfs(tiny_tree(big), img, opts());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().sys_errno, ENOSPC);
  EXPECT_NE(r.error().message.find("No space left on device"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.rfind("squashfs " + img + ": ", 0), 0u) << r.error().message;
  EXPECT_TRUE(file_bytes(img) == before);
  EXPECT_EQ(listing(out_dir), std::vector<std::string>{"rootfs.img"});
}

TEST_F(FaultsTest, MalformedTrees) {
  std::string f = tmp_ / "f";
  testing::write_text(f, "abc");
  std::string out = tmp_ / "o.img";
  auto expect = [&](FsTree t, const std::string& msg) {
    auto r = write_squashfs(t, out, opts());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kBadInput);
    EXPECT_EQ(r.error().message, "squashfs " + out + ": " + msg);
  };
  expect(FsTree{}, "fs tree: the first entry must be the root directory \"/\"");
  FsTree t = tiny_tree(f);
  t.entries[1].path = "/etc/f";
  expect(t, "fs tree: /etc/f: parent directory /etc missing");
  t = tiny_tree(f);
  t.entries.push_back(t.entries[1]);
  expect(t, "fs tree: /f: entries not sorted or duplicated");
  t = tiny_tree(f);
  t.entries[1].size = 10;
  expect(t, f + " (for /f): has 3 bytes, the tree says 10");
  t = tiny_tree(f);
  t.entries[1].hash = {1, 2};
  auto r = write_squashfs(t, out, opts());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "squashfs " + out + ": " + f + " (for /f): content changed since it was indexed (hash mismatch)");
  t = tiny_tree(f);
  t.entries[1].xattrs = {{"system.posix_acl_access", "x"}};
  expect(t, "/f: xattr 'system.posix_acl_access': squashfs stores only user.*, trusted.* and "
            "security.* names");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(listing(tmp_.path()), std::vector<std::string>{"f"});
}

}  // namespace
}  // namespace nestbox::composer::squashfs
