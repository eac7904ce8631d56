#include "util/file_io.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace nestbox {
namespace {

std::string make_temp_dir() {
  char tmpl[] = "/tmp/nestbox-test-XXXXXX";
  return mkdtemp(tmpl);
}

int count_entries(const std::string& dir) {
  int n = 0;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

TEST(FileIo, AtomicWriteReplacesAndLeavesNoTemporary) {
  std::string dir = make_temp_dir();
  std::string path = dir + "/state";
  ASSERT_TRUE(write_file_atomic(path, "one", 0600).ok());
  ASSERT_TRUE(write_file_atomic(path, "two").ok());
  auto content = read_file(path);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "two");
  EXPECT_EQ(count_entries(dir), 1);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  system(("rm -rf " + dir).c_str());
}

// The temporary name is predictable: a symlink planted there is replaced,
// never followed (it would truncate and overwrite its target).
TEST(FileIo, AtomicWriteNeverFollowsAPlantedTemporary) {
  std::string dir = make_temp_dir();
  std::string path = dir + "/state", victim = dir + "/victim";
  ASSERT_TRUE(write_file_atomic(victim, "host file").ok());
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  ASSERT_EQ(symlink(victim.c_str(), tmp.c_str()), 0);
  ASSERT_TRUE(write_file_atomic(path, "new").ok());
  EXPECT_EQ(*read_file(path), "new");
  EXPECT_EQ(*read_file(victim), "host file");
  EXPECT_EQ(count_entries(dir), 2);
  system(("rm -rf " + dir).c_str());
}

TEST(FileIo, ReadMissingFileNamesIt) {
  auto r = read_file("/nonexistent/nestbox");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "open /nonexistent/nestbox: No such file or directory");
}

TEST(FileIo, AtomicWriteIntoMissingDirFailsCleanly) {
  Status st = write_file_atomic("/nonexistent/dir/file", "x");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("create /nonexistent/dir/file.tmp."), std::string::npos);
}

// Positioned I/O: writes land at the offset, reads return exactly what is
// there, and a file that ends early is an error naming it, not a short read.
TEST(FileIo, PositionedWriteAndExactRead) {
  FILE* f = tmpfile();
  ASSERT_NE(f, nullptr);
  int fd = fileno(f);
  ASSERT_TRUE(pwrite_all(fd, "world", 5, 6, "scratch").ok());
  ASSERT_TRUE(pwrite_all(fd, "hello ", 6, 0, "scratch").ok());
  char buf[11] = {};
  ASSERT_TRUE(pread_exact(fd, buf, 11, 0, "scratch").ok());
  EXPECT_EQ(std::string(buf, 11), "hello world");
  Status past = pread_exact(fd, buf, 4, 9, "scratch");
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().message, "read scratch: the file ends 2 bytes early");
  fclose(f);
}

}  // namespace
}  // namespace nestbox
