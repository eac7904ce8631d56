#include "util/mount_point.h"

#include <gtest/gtest.h>
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

TEST(MountPoint, AFailedMountSaysWhatAndWhere) {
  auto m = MountPoint::mount("none", "/nonexistent-nestbox-target", "tmpfs", 0, "");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("/nonexistent-nestbox-target"), std::string::npos) << m.error().message;
}

}  // namespace
}  // namespace nestbox
