#include "util/temp_path.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace nestbox {
namespace {

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

TEST(TempFile, RemovedUnlessKept) {
  std::string p = ::testing::TempDir() + "/tempfile-" + std::to_string(getpid());
  {
    std::ofstream(p) << "x";
    TempFile t(p);
  }
  EXPECT_FALSE(exists(p));
  {
    std::ofstream(p) << "x";
    TempFile t(p);
    t.keep();
  }
  EXPECT_TRUE(exists(p));
  ::unlink(p.c_str());
}

// The whole tree goes, and nothing a symlink in it points to.
TEST(TempDir, RemovesItsTreeButNotWhatLinksPointTo) {
  std::string outside = ::testing::TempDir() + "/outside-" + std::to_string(getpid());
  ::mkdir(outside.c_str(), 0755);
  std::ofstream(outside + "/precious") << "keep me";
  std::string path;
  {
    auto d = TempDir::create(::testing::TempDir() + "/tempdir-");
    ASSERT_TRUE(d.ok()) << d.error().message;
    path = d->path();
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ::mkdir((path + "/a").c_str(), 0755);
    ::mkdir((path + "/a/b").c_str(), 0755);
    std::ofstream(path + "/a/b/file") << "x";
    ASSERT_EQ(::symlink(outside.c_str(), (path + "/a/link").c_str()), 0);
    TempDir moved = std::move(*d);  // ownership moves; the moved-from owner removes nothing
  }
  EXPECT_FALSE(exists(path));
  EXPECT_TRUE(exists(outside + "/precious"));
  ::unlink((outside + "/precious").c_str());
  ::rmdir(outside.c_str());
}

TEST(TempDir, KeptTreeStays) {
  std::string path;
  {
    auto d = TempDir::create(::testing::TempDir() + "/tempdir-");
    ASSERT_TRUE(d.ok());
    path = d->path();
    d->keep();
  }
  EXPECT_TRUE(exists(path));
  ::rmdir(path.c_str());
}

}  // namespace
}  // namespace nestbox
