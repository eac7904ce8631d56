// util/open_regular.h and its users outside the verifier (a storage image's
// backing file): a regular file opens; a symlink, FIFO, directory or device
// node is refused WITHOUT being opened (inotify's IN_OPEN would see an open;
// an O_PATH lookup is not one).
#include "util/open_regular.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "util/loop_device.h"
#include "util/temp_path.h"

namespace nestbox {
namespace {

TEST(OpenRegular, OpensOnlyARegularFileAndNeverOpensAnythingElse) {
  auto dir = TempDir::create("/tmp/nestbox-openreg-");
  ASSERT_TRUE(dir.ok());
  std::string d = dir->path();
  int f = ::open((d + "/file").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(f, 0);
  ASSERT_EQ(::write(f, "x", 1), 1);
  ::close(f);
  ASSERT_EQ(::symlink("file", (d + "/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((d + "/fifo").c_str(), 0644), 0);
  ASSERT_EQ(::mkdir((d + "/dir").c_str(), 0755), 0);
  UniqueFd dfd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dfd);

  auto ok = open_regular_at(dfd.get(), "file", O_RDONLY);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  char c = 0;
  EXPECT_EQ(::read(ok->get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
  auto link = open_regular_at(dfd.get(), "link", O_RDONLY);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.error().sys_errno, ELOOP);
  EXPECT_EQ(open_regular_at(dfd.get(), "fifo", O_RDONLY).error().message, "not a regular file");
  EXPECT_EQ(open_regular_at(dfd.get(), "dir", O_RDONLY).error().message, "not a regular file");
  EXPECT_EQ(open_regular_at(dfd.get(), "absent", O_RDONLY).error().sys_errno, ENOENT);

  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mknod)";
  std::string dev = d + "/dev";
  if (::mknod(dev.c_str(), S_IFCHR | 0644, makedev(1, 3)) != 0) GTEST_SKIP() << "mknod: " << std::strerror(errno);
  int in = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(in, 0);
  ASSERT_GE(::inotify_add_watch(in, dev.c_str(), IN_OPEN), 0);
  EXPECT_EQ(open_regular_at(dfd.get(), "dev", O_RDWR).error().message, "not a regular file");
  auto backing = open_backing_file(dev, false);  // a storage image's file
  ASSERT_FALSE(backing.ok());
  EXPECT_EQ(backing.error().message, dev + ": not a regular file");
  char events[4096];
  EXPECT_EQ(::read(in, events, sizeof events), -1) << "the device node was opened";
  ::close(in);
}

}  // namespace
}  // namespace nestbox
