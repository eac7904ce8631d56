// Launching from each rootfs source, exit status, and nothing left behind.
#include <gtest/gtest.h>

#include "tests/launcher/support.h"

namespace nestbox::launcher::testing {
namespace {

TEST(Launch, RunsTrueFromSquashfsAndLeavesNothing) {
  NESTBOX_NEED_IMAGES();
  Outcome r = run(full_policy("t-true", {"/bin/true"}), squashfs_source());
  ASSERT_TRUE(r.ok) << r.error << r.out;
  EXPECT_EQ(r.result.exit_code, 0);
  EXPECT_FALSE(r.result.oom_killed);
  EXPECT_EQ(leftovers("t-true"), std::vector<std::string>{});
}

TEST(Launch, ReportsTheMainProcessExitStatus) {
  NESTBOX_NEED_IMAGES();
  Outcome r = run(full_policy("t-exit", {"/bin/sh", "-c", "echo bye; exit 7"}), squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result.exit_code, 7);
  EXPECT_EQ(r.out, "bye\n");
}

TEST(Launch, ImageWindowWithLegacyLoopSetup) {
  NESTBOX_NEED_IMAGES();
  RootfsSource src;
  src.image = {images()->windowed, images()->window_offset, images()->window_size};
  Options o = test_options();
  o.force_legacy_loop = true;
  Outcome r = run(full_policy("t-window", {"/bin/cat", "/etc/motd"}), src, o);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "hello from the image\n");
  EXPECT_EQ(leftovers("t-window"), std::vector<std::string>{});
}

TEST(Launch, WrongWindowIsNotASquashfs) {
  NESTBOX_NEED_IMAGES();
  RootfsSource src;
  src.image = {images()->windowed, 0, images()->window_size};  // starts at the padding
  Outcome r = run(full_policy("t-badwin", {"/bin/true"}), src);
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.error.find("mount squashfs"), std::string::npos) << r.error;
  EXPECT_EQ(leftovers("t-badwin"), std::vector<std::string>{});
}

TEST(Launch, OverlayOfLayerOnBase) {
  NESTBOX_NEED_IMAGES();
  RootfsSource src;
  src.kind = RootfsSource::Kind::kOverlay;
  src.image = {images()->layer, 0, 0};
  src.base = {images()->base, 0, 0};
  src.base.digest = std::string(64, '0');  // stands for the verified digest (the shared mount's key)
  // probe comes from the layer, sh from the base.
  Outcome r = run(full_policy("t-overlay", {"/bin/sh", "-c", "/bin/probe exists /bin/busybox"}), src);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "exists /bin/busybox yes\n");
  EXPECT_EQ(leftovers("t-overlay"), std::vector<std::string>{});
}

TEST(Launch, TreeIsBoundReadOnly) {
  NESTBOX_NEED_IMAGES();
  RootfsSource src;
  src.kind = RootfsSource::Kind::kTree;
  src.tree = images()->tree;
  Outcome r = run(full_policy("t-tree", {"/bin/probe", "write", "/etc/new"}), src);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "write /etc/new EROFS\n");
  EXPECT_EQ(leftovers("t-tree"), std::vector<std::string>{});
}

TEST(Launch, WritableRootGetsAVolatileUpperLayer) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("t-rw", {"/bin/sh", "-c", "/bin/probe write /etc/new && cat /etc/new"});
  p.read_only_root = false;
  p.uid_map.clear();  // host root owns the upper layer
  p.gid_map.clear();
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "write /etc/new ok\nx");
  EXPECT_EQ(leftovers("t-rw"), std::vector<std::string>{});
}

TEST(Launch, WritableRootInAUserNamespace) {
  NESTBOX_NEED_IMAGES();
  // The upper layer's top belongs to the container's root (host 100000); the
  // image's own directories stay the host root's (unmapped: read-only inside).
  policy::Policy p = full_policy("t-rw-userns", {"/bin/sh", "-c", "probe write /new; probe write /etc/new"});
  p.read_only_root = false;
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "write /new ok\nwrite /etc/new EACCES\n");
  EXPECT_EQ(leftovers("t-rw-userns"), std::vector<std::string>{});
}

TEST(Launch, ExecFailureIsReportedAsAnError) {
  NESTBOX_NEED_IMAGES();
  Outcome r = run(full_policy("t-noexec", {"/bin/missing"}), squashfs_source());
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.error.find("exec /bin/missing: No such file or directory"), std::string::npos) << r.error;
  EXPECT_EQ(leftovers("t-noexec"), std::vector<std::string>{});
}

TEST(Launch, SystemModeRunsInitAsPid1WithServices) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("t-system", {"/bin/sh", "-c", "sleep 0.3; echo init $$"});
  p.process.model = policy::Model::kSystem;
  p.process.services = {{"svc", {"/bin/sh", "-c", "echo service $$"}}};
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "service 2\ninit 1\n");
}

}  // namespace
}  // namespace nestbox::launcher::testing
