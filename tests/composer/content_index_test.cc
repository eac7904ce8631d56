#include "composer/content_index.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "tests/composer/test_util.h"

namespace nestbox::composer {
namespace {

using testing::TempDir;
using testing::write;

std::string hex(const ContentHash& h) {
  char buf[40];
  snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high),
           static_cast<unsigned long long>(h.low));
  return buf;
}

TEST(ContentIndex, HashesAgreeWithXxhsum) {
  TempDir d;
  std::vector<std::string> files;
  // Two different files of each size: only sizes that repeat are hashed.
  for (size_t size : {1ul, 240ul, 4096ul, 1000000ul})
    for (char variant : {'a', 'b'}) {
      std::string data(size, '\0');
      for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 7 + size + variant);
      files.push_back(d / ("f" + std::to_string(size) + variant));
      write(files.back(), data);
    }
  auto index = ContentIndex::build_files(files, 2);
  ASSERT_TRUE(index.ok()) << index.error().message;
  for (const auto& f : files) {
    std::string expected = testing::run("xxhsum -H2 '" + f + "'");
    ASSERT_FALSE(expected.empty()) << "xxhsum missing";
    EXPECT_EQ(hex(index->find(f)->hash), expected.substr(0, 32)) << f;
  }
}

TEST(ContentIndex, IdenticalBytesShareAnIdDifferentBytesDoNot) {
  TempDir d;
  write(d / "a", "same content");
  write(d / "b", "same content");
  write(d / "c", "same contenT");  // same size, different bytes
  write(d / "e", "");
  auto index = ContentIndex::build_files({d / "c", d / "b", d / "a", d / "e", d / "a"}, 3);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->find(d / "a")->id, index->find(d / "b")->id);
  EXPECT_NE(index->find(d / "a")->id, index->find(d / "c")->id);
  EXPECT_EQ(index->find(d / "b")->representative, d / "a");  // sorted: deterministic
  EXPECT_EQ(index->distinct_contents(), 3u);
  EXPECT_EQ(index->bytes_hashed(), 36u);  // a, b, c: one size; e is empty
  auto same = same_bytes(d / "a", d / "c");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(*same);
}

// Names of one inode are read once (as mksquashfs reads them) and share its
// content id.
TEST(ContentIndex, HardLinksAreReadOnce) {
  TempDir d;
  write(d / "a", "linked content");
  ASSERT_EQ(::link((d / "a").c_str(), (d / "b").c_str()), 0);
  write(d / "c", "other content!");  // the size of a: read
  write(d / "e", "other");
  auto index = ContentIndex::build_files({d / "a", d / "b", d / "c", d / "e"}, 2);
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_EQ(index->find(d / "a")->id, index->find(d / "b")->id);
  EXPECT_NE(index->find(d / "a")->hash, ContentHash{});
  EXPECT_EQ(index->find(d / "b")->hash, index->find(d / "a")->hash);
  EXPECT_EQ(index->find(d / "b")->size, 14u);
  EXPECT_EQ(index->distinct_contents(), 3u);
  EXPECT_EQ(index->bytes_hashed(), 14u + 14u);  // the inode of a and b once, c; e not at all
}

// A size no other inode has cannot be shared: the file is not read (its
// hash stays zero) and still gets an id of its own; two names of one inode
// are one size, not a repeat.
TEST(ContentIndex, AFileOfAUniqueSizeIsNotRead) {
  TempDir d;
  write(d / "unique", "only this one has eleven");
  ASSERT_EQ(::link((d / "unique").c_str(), (d / "unique-link").c_str()), 0);
  write(d / "x", "same");
  write(d / "y", "same");
  auto index = ContentIndex::build_files({d / "unique", d / "unique-link", d / "x", d / "y"}, 2);
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_EQ(index->find(d / "unique")->hash, ContentHash{});
  EXPECT_EQ(index->find(d / "unique")->size, 24u);
  EXPECT_EQ(index->find(d / "unique")->id, index->find(d / "unique-link")->id);
  EXPECT_NE(index->find(d / "unique")->id, index->find(d / "x")->id);
  EXPECT_EQ(index->find(d / "x")->id, index->find(d / "y")->id);
  EXPECT_EQ(index->bytes_hashed(), 8u);
  EXPECT_EQ(index->distinct_contents(), 2u);
}

TEST(ContentIndex, ResultDoesNotDependOnThreadCount) {
  TempDir d;
  std::vector<std::string> files;
  for (int i = 0; i < 200; ++i) {
    files.push_back(d / ("f" + std::to_string(i)));
    write(files.back(), std::string(100 + i % 7, static_cast<char>('a' + i % 5)));
  }
  auto one = ContentIndex::build_files(files, 1);
  auto many = ContentIndex::build_files(files, 8);
  ASSERT_TRUE(one.ok() && many.ok());
  for (const auto& f : files) {
    EXPECT_EQ(one->find(f)->id, many->find(f)->id);
    EXPECT_EQ(one->find(f)->hash, many->find(f)->hash);
  }
  EXPECT_EQ(one->distinct_contents(), 35u);
}

// A source that is not a regular file when it is read (here a FIFO with no
// writer, which a blocking open would wait on forever) is refused.
TEST(ContentIndex, AFifoIsRefusedNotWaitedOn) {
  TempDir d;
  ASSERT_EQ(::mkfifo((d / "fifo").c_str(), 0644), 0);
  auto index = ContentIndex::build_files({d / "fifo"}, 1);
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().message, d / "fifo" + ": not a regular file");
}

TEST(ContentIndex, UnreadableFileIsAnError) {
  auto index = ContentIndex::build_files({"/nonexistent/nestbox"}, 1);
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().message, "open /nonexistent/nestbox: No such file or directory");
}

}  // namespace
}  // namespace nestbox::composer
