#include "util/detached_mount.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file_io.h"

namespace nestbox {
namespace {

// The mount is reachable through its descriptor only: no mount namespace,
// the host's included, lists it, and it is a real cgroup2 (cgroup.procs,
// a directory made and removed through it). Both ways: fsmount and, for
// kernels before 5.2, a child's private mount namespace.
void check_private_cgroup2(Result<DetachedMount> (*make)(const char*)) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  auto before = read_file("/proc/self/mountinfo");
  ASSERT_TRUE(before.ok());
  auto m = make("cgroup2");
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto after = read_file("/proc/self/mountinfo");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*before, *after);
  auto procs = read_file(m->path() + "/cgroup.procs");
  ASSERT_TRUE(procs.ok()) << procs.error().message;
  EXPECT_FALSE(procs->empty());  // the root cgroup holds every process here
  std::string dir = m->path() + "/nestbox-detached-mount-test-" + std::to_string(getpid());
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
  struct stat st;
  EXPECT_EQ(stat((dir + "/cgroup.procs").c_str(), &st), 0);
  EXPECT_EQ(rmdir(dir.c_str()), 0);
}

TEST(DetachedMount, Cgroup2ThroughFsmount) {
  if (access("/sys/fs/cgroup/unified", F_OK) != 0 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0)
    GTEST_SKIP() << "no cgroup2 here";
  check_private_cgroup2(&DetachedMount::create);
}

TEST(DetachedMount, Cgroup2InAPrivateNamespace) {
  if (access("/sys/fs/cgroup/unified", F_OK) != 0 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0)
    GTEST_SKIP() << "no cgroup2 here";
  check_private_cgroup2(&DetachedMount::in_private_namespace);
}

}  // namespace
}  // namespace nestbox
