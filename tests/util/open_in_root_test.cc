#include "util/open_in_root.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "util/temp_path.h"

namespace nestbox {
namespace {

// root/etc/file, root/abs -> /etc (absolute), root/up -> ../.. (climbs), and
// a file of the same name outside the root that must never be reached.
class OpenConfined : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create(::testing::TempDir() + "/confined-");
    ASSERT_TRUE(d.ok());
    top_ = std::move(*d);
    root_ = top_.path() + "/root";
    ::mkdir(root_.c_str(), 0755);
    ::mkdir((root_ + "/etc").c_str(), 0755);
    std::ofstream(root_ + "/etc/file") << "inside";
    ::mkdir((top_.path() + "/etc").c_str(), 0755);
    std::ofstream(top_.path() + "/etc/file") << "outside";
    ASSERT_EQ(::symlink("/etc", (root_ + "/abs").c_str()), 0);
    ASSERT_EQ(::symlink("../..", (root_ + "/up").c_str()), 0);
    root_fd_ = UniqueFd(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_);
    // qemu-user 7.2 (the cross stage) does not emulate openat2; real kernels
    // since 5.6 have it.
    if (!open_confined(root_fd_.get(), "/", O_PATH, Confine::kInRoot) && errno == ENOSYS)
      GTEST_SKIP() << "openat2(2) is not available here (ENOSYS)";
  }
  std::string read(const UniqueFd& fd) {
    char buf[32] = {};
    ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  TempDir top_;
  std::string root_;
  UniqueFd root_fd_;
};

TEST_F(OpenConfined, InRootResolvesSymlinksInsideTheRoot) {
  UniqueFd fd = open_confined(root_fd_.get(), "/abs/file", O_RDONLY, Confine::kInRoot);
  ASSERT_TRUE(fd) << strerror(errno);
  EXPECT_EQ(read(fd), "inside");
  fd = open_confined(root_fd_.get(), "/up/etc/file", O_RDONLY, Confine::kInRoot);
  ASSERT_TRUE(fd) << strerror(errno);
  EXPECT_EQ(read(fd), "inside");  // ".." stops at the root
  fd = open_confined(root_fd_.get(), "/../../etc/file", O_RDONLY, Confine::kInRoot);
  ASSERT_TRUE(fd);
  EXPECT_EQ(read(fd), "inside");
  // Magic links are never followed, even for the root's own process.
  EXPECT_FALSE(open_confined(root_fd_.get(), "/proc/self/root", O_RDONLY, Confine::kInRoot));
}

TEST_F(OpenConfined, BeneathRefusesEverySymlinkAndEveryEscape) {
  UniqueFd fd = open_confined(root_fd_.get(), "etc/file", O_RDONLY, Confine::kBeneathNoSymlinks);
  ASSERT_TRUE(fd);
  EXPECT_EQ(read(fd), "inside");
  EXPECT_FALSE(open_confined(root_fd_.get(), "abs/file", O_RDONLY, Confine::kBeneathNoSymlinks));
  EXPECT_EQ(errno, ELOOP);
  EXPECT_FALSE(open_confined(root_fd_.get(), "etc/../../etc/file", O_RDONLY, Confine::kBeneathNoSymlinks));
  EXPECT_EQ(errno, EXDEV);
  // "/" is the directory itself; an empty path is nothing.
  EXPECT_TRUE(open_confined(root_fd_.get(), "/", O_PATH | O_DIRECTORY, Confine::kBeneathNoSymlinks));
  EXPECT_FALSE(open_confined(root_fd_.get(), "", O_PATH, Confine::kBeneathNoSymlinks));
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(OpenConfined, FdsAreCloseOnExec) {
  UniqueFd fd = open_confined(root_fd_.get(), "etc/file", O_RDONLY, Confine::kInRoot);
  ASSERT_TRUE(fd);
  EXPECT_TRUE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC);
}

// The component walk for kernels without openat2 (and for making the
// directories on the way): a symlink anywhere refuses, nothing is made
// beyond it, and the failing prefix is reported.
TEST(OpenDirsNoSymlinks, RefusesSymlinksOnTheWayAndMakesWhatIsMissing) {
  auto d = TempDir::create(::testing::TempDir() + "/dirs-");
  ASSERT_TRUE(d.ok());
  std::string top = d->path();
  ASSERT_EQ(::mkdir((top + "/outside").c_str(), 0755), 0);
  ASSERT_EQ(::symlink((top + "/outside").c_str(), (top + "/link").c_str()), 0);
  UniqueFd fd(::open(top.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  size_t end = 0;
  EXPECT_FALSE(open_dirs_no_symlinks(fd.get(), "link/made", true, &end));
  EXPECT_TRUE(errno == ENOTDIR || errno == ELOOP) << errno;  // O_DIRECTORY | O_NOFOLLOW on a link
  EXPECT_EQ(end, 4u);  // "link"
  struct stat st;
  EXPECT_NE(::stat((top + "/outside/made").c_str(), &st), 0);  // nothing made through the link
  EXPECT_FALSE(open_dirs_no_symlinks(fd.get(), "a/../b", true, &end));
  EXPECT_EQ(errno, EINVAL);
  EXPECT_FALSE(open_dirs_no_symlinks(fd.get(), "x/y", false, &end));
  EXPECT_EQ(errno, ENOENT);
  UniqueFd made = open_dirs_no_symlinks(fd.get(), "x/y", true, &end);
  ASSERT_TRUE(made);
  ASSERT_EQ(::fstat(made.get(), &st), 0);
  struct stat want;
  ASSERT_EQ(::stat((top + "/x/y").c_str(), &want), 0);
  EXPECT_EQ(st.st_ino, want.st_ino);
  EXPECT_TRUE(open_dirs_no_symlinks(fd.get(), "", false));  // the directory itself
}

}  // namespace
}  // namespace nestbox
