// One base, mounted once (launcher/shared_base.h): containers over the same
// verified base content share one read-only mount, counted by the live
// holders' flocks; a killed holder's mount is cleaned by the next start.
#include "launcher/shared_base.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/launcher/support.h"

namespace nestbox::launcher {
namespace {

using testing::images;

// Squashfs mounts below the test's shared-base directory (host mount table).
int base_mounts() {
  std::ifstream in("/proc/self/mountinfo");
  std::string bases = images()->state_root + "/" + kBasesDir + "/";
  int n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find(" " + bases) != std::string::npos && line.find(" - squashfs ") != std::string::npos) ++n;
  return n;
}

ImageWindow base_window(char digest) {
  ImageWindow w{images()->base, 0, 0};
  w.digest = std::string(64, digest);  // the test base is not signed: stands for its verified digest
  return w;
}

TEST(SharedBase, SecondHolderJoinsTheMountAndTheLastUnmountsIt) {
  NESTBOX_NEED_IMAGES();
  ASSERT_EQ(base_mounts(), 0);
  {
    auto a = SharedBase::acquire(images()->state_root, "appbase", base_window('1'), false);
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_TRUE(a->created());
    auto b = SharedBase::acquire(images()->state_root, "appbase", base_window('1'), false);
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_FALSE(b->created());
    EXPECT_EQ(a->dir(), b->dir());
    EXPECT_EQ(base_mounts(), 1);
    EXPECT_EQ(::access((a->dir() + "/bin/busybox").c_str(), F_OK), 0);
    // Other content (another digest): another mount.
    auto c = SharedBase::acquire(images()->state_root, "appbase", base_window('2'), false);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(c->created());
    EXPECT_NE(c->dir(), a->dir());
    EXPECT_EQ(base_mounts(), 2);
    { SharedBase gone = std::move(*a); }
    EXPECT_EQ(base_mounts(), 2);  // b still holds it
  }
  EXPECT_EQ(base_mounts(), 0);
}

TEST(SharedBase, OverlayContainersShareOneMount) {
  NESTBOX_NEED_IMAGES();
  RootfsSource src;
  src.kind = RootfsSource::Kind::kOverlay;
  src.image = {images()->layer, 0, 0};
  src.base = base_window('3');
  // The first container's mount, joined by a second container.
  auto held = SharedBase::acquire(images()->state_root, "appbase", base_window('3'), false);
  ASSERT_TRUE(held.ok()) << held.error().message;
  // full_policy is a squashfs policy: run it as an overlay one.
  policy::Policy q = testing::full_policy("t-shared2", {"/bin/sh", "-c", "/bin/probe exists /bin/busybox"});
  q.base = "appbase";
  testing::Outcome r = testing::run(q, src);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "exists /bin/busybox yes\n");
  EXPECT_EQ(base_mounts(), 1);  // joined, and left in place for the holder
  { SharedBase gone = std::move(*held); }
  EXPECT_EQ(base_mounts(), 0);
  EXPECT_EQ(testing::leftovers("t-shared2"), std::vector<std::string>{});
}

// A launcher SIGKILLed while holding the mount: no count drifts (the kernel
// drops its flock); the next acquire mounts afresh, a sweep removes others.
// A launcher in a child process that takes the mount of `digest`, then is SIGKILLed.
void killed_holder(char digest) {
  int pfd[2];
  ASSERT_EQ(::pipe(pfd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pfd[0]);
    auto b = SharedBase::acquire(images()->state_root, "appbase", base_window(digest), false);
    char c = b.ok() ? 'y' : 'n';
    (void)!::write(pfd[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  ::close(pfd[1]);
  char c = 0;
  ASSERT_EQ(::read(pfd[0], &c, 1), 1);
  ::close(pfd[0]);
  ASSERT_EQ(c, 'y');
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

TEST(SharedBase, KilledHolderLeavesNothingTheNextStartKeeps) {
  NESTBOX_NEED_IMAGES();
  killed_holder('4');
  EXPECT_EQ(base_mounts(), 1);  // stale: its holder is dead, nothing counts it
  killed_holder('5');
  EXPECT_EQ(base_mounts(), 1);  // that start swept the first one
  {
    auto again = SharedBase::acquire(images()->state_root, "appbase", base_window('5'), false);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_TRUE(again->created());  // the stale mount was not trusted: mounted afresh
    EXPECT_EQ(base_mounts(), 1);
  }
  EXPECT_EQ(base_mounts(), 0);
  killed_holder('6');
  EXPECT_EQ(base_mounts(), 1);
  ASSERT_TRUE(sweep_stale_bases(images()->state_root).ok());
  EXPECT_EQ(base_mounts(), 0);
}

TEST(SharedBase, WindowWithoutVerifiedDigestIsRefused) {
  NESTBOX_NEED_IMAGES();
  ImageWindow w{images()->base, 0, 0};
  auto b = SharedBase::acquire(images()->state_root, "appbase", w, false);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "base " + images()->base + ": no verified digest to share its mount by");
  EXPECT_EQ(base_mounts(), 0);
}

// The verity key names the content by root hash, salt *and* data block
// count: dm-verity hashes every level of its tree alike, so an image whose
// data are another's hash blocks (fewer data blocks) has the same root hash
// and salt; joining its mount would run the other content.
TEST(SharedBase, VerityKeyNamesTheDataBlockCount) {
  ImageWindow a{"a.img", 0, 0};
  a.verity.emplace();
  a.verity->root_hex = std::string(64, 'a');
  a.verity->salt_hex = std::string(64, 'b');
  a.verity->data_blocks = 129;
  ImageWindow b = a;
  b.path = "b.img";
  b.verity->data_blocks = 2;
  EXPECT_NE(shared_base_key("appbase", a), shared_base_key("appbase", b));
  b.verity->data_blocks = 129;
  EXPECT_EQ(shared_base_key("appbase", a), shared_base_key("appbase", b));  // same content: one mount
}

}  // namespace
}  // namespace nestbox::launcher
