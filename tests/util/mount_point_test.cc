#include "util/mount_point.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include <string>

#include "util/temp_path.h"

namespace nestbox {
namespace {

bool is_tmpfs(const std::string& dir) {
  struct statfs st;
  return ::statfs(dir.c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
}

TEST(MountPoint, UnmountedWhenTheOwnerGoesAndOnceAfterAMove) {
  auto dir = TempDir::create(::testing::TempDir() + "/mount-point-");
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  ASSERT_FALSE(is_tmpfs(dir->path())) << "the test needs a directory that is not tmpfs";
  {
    auto m = MountPoint::mount("tmpfs", dir->path(), "tmpfs", MS_NODEV | MS_NOSUID, "size=64k");
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->target(), dir->path());
    EXPECT_TRUE(is_tmpfs(dir->path()));
    MountPoint moved = std::move(*m);
    EXPECT_TRUE(m->target().empty());
    EXPECT_TRUE(is_tmpfs(dir->path()));
  }
  EXPECT_FALSE(is_tmpfs(dir->path()));
}

// Idle: unmounted at once. Busy (a file open inside): detached, the open
// file still readable. Nothing mounted, or a symlink to a mount: false, and
// the mount behind the link stays.
TEST(MountPoint, UnmountNowOrDetach) {
  auto dir = TempDir::create(::testing::TempDir() + "/mount-point-");
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  const std::string target = dir->path() + "/m", link = dir->path() + "/link";
  ASSERT_EQ(::mkdir(target.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto mount = [&] { return ::mount("tmpfs", target.c_str(), "tmpfs", MS_NODEV | MS_NOSUID, "size=64k") == 0; };
  struct Cleanup {  // nothing stays mounted when an assertion ends the test early
    const std::string& target;
    ~Cleanup() { ::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW); }
  } cleanup{target};

  ASSERT_TRUE(mount());
  EXPECT_FALSE(unmount_now_or_detach(link));
  EXPECT_TRUE(is_tmpfs(target));
  EXPECT_TRUE(unmount_now_or_detach(target));
  EXPECT_FALSE(is_tmpfs(target));
  EXPECT_FALSE(unmount_now_or_detach(target));

  ASSERT_TRUE(mount());
  int fd = ::open((target + "/f").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "x", 1), 1);
  EXPECT_TRUE(unmount_now_or_detach(target));
  EXPECT_FALSE(is_tmpfs(target));
  char c = 0;
  EXPECT_EQ(::pread(fd, &c, 1, 0), 1);
  EXPECT_EQ(c, 'x');
  ::close(fd);
}

TEST(MountPoint, AFailedMountSaysWhatAndWhere) {
  auto m = MountPoint::mount("none", "/nonexistent-nestbox-target", "tmpfs", 0, "");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("/nonexistent-nestbox-target"), std::string::npos) << m.error().message;
}

}  // namespace
}  // namespace nestbox
