// Tree variant: the signed artifact is the policy plus the tree's digest
// manifest; the directory is verified against it at boot.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "signer/tree_manifest_writer.h"
#include "tests/signer/fixture.h"
#include "verifier/tree_manifest.h"
#include "verifier/verifier.h"

namespace nestbox {
namespace {

using testing::slurp;
using testing::spit;
using testing::TempDir;

class Tree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "rootfs";
    ::mkdir(root_.c_str(), 0755);
    ::mkdir((root_ + "/etc").c_str(), 0755);
    ::mkdir((root_ + "/usr").c_str(), 0755);
    ::mkdir((root_ + "/usr/bin").c_str(), 0755);
    spit(root_ + "/etc/conf", "name=web\n");
    spit(root_ + "/usr/bin/app", std::string(100000, 'a'));
    ::chmod((root_ + "/usr/bin/app").c_str(), 04755);
    ::chown((root_ + "/etc/conf").c_str(), 1000, 1000);
    ::symlink("usr/bin", (root_ + "/bin").c_str());
    ::mkfifo((root_ + "/fifo").c_str(), 0600);
    spit(root_ + "/odd name,=%", "x");
    ASSERT_EQ(::setxattr((root_ + "/usr/bin/app").c_str(), "user.nestbox", "v\n", 2, 0), 0);
    key_ = testing::make_key(dir_, "k");
    ring_ = testing::make_keyring(dir_, "ring", {key_});
    manifest_ = dir_ / "tree.manifest";
    ASSERT_TRUE(signer::write_tree_manifest(root_, manifest_).ok());
    auto s = testing::spec_for(manifest_, {key_});
    s.kind = image::Kind::kTreeManifest;
    img_ = dir_ / "tree.img";
    auto built = signer::build_image(s, img_);
    ASSERT_TRUE(built.ok()) << built.error().message;
  }

  std::string check() {
    auto info = verifier::verify_image(img_, verifier::Keyring{ring_, {}}, verifier::Mode::kFull);
    if (!info.ok()) return info.error().message;
    Status st = verifier::verify_tree(img_, *info, root_);
    return st.ok() ? "ok" : st.error().message;
  }
  std::string prefix() { return "verify tree " + root_ + " against " + img_ + ": "; }

  TempDir dir_;
  std::string root_, ring_, manifest_, img_;
  testing::KeyPair key_;
};

TEST_F(Tree, ManifestListsEveryAttribute) {
  std::string m = slurp(manifest_);
  EXPECT_EQ(m.substr(0, m.find('\n')), "nestbox-tree-manifest 1");
  EXPECT_NE(m.find("\n/ d 0755 0 0 - -\n"), std::string::npos) << m;
  EXPECT_NE(m.find("\n/bin l 0777 0 0 usr/bin -\n"), std::string::npos) << m;
  EXPECT_NE(m.find("\n/etc/conf f 0644 1000 1000 9:"), std::string::npos) << m;
  EXPECT_NE(m.find("\n/fifo p 0600 0 0 - -\n"), std::string::npos) << m;
  EXPECT_NE(m.find("\n/odd%20name%2C%3D%25 f 0644 0 0 1:"), std::string::npos) << m;
  EXPECT_NE(m.find(" user.nestbox=760a\n"), std::string::npos) << m;
  EXPECT_NE(m.find("\n/usr/bin/app f 4755 0 0 100000:"), std::string::npos) << m;
  // Depth-first, children by name: /etc before /etc/conf before /fifo.
  EXPECT_LT(m.find("\n/etc d"), m.find("\n/etc/conf f"));
  EXPECT_LT(m.find("\n/etc/conf f"), m.find("\n/fifo p"));
}

// compose --root-owned: the firmware packs the tree 0:0 (mksquashfs
// -root-owned); the manifest says so for every entry and keeps everything else.
TEST_F(Tree, RootOwnedManifestRecordsOwnerZeroAndKeepsTheRest) {
  std::string owned = dir_ / "owned.manifest";
  ASSERT_TRUE(signer::write_tree_manifest(root_, owned, {.root_owned = true}).ok());
  std::string plain = slurp(manifest_), m = slurp(owned);
  EXPECT_NE(m.find("\n/etc/conf f 0644 0 0 9:"), std::string::npos) << m;
  EXPECT_EQ(m.find(" 1000 "), std::string::npos) << m;
  // Only the owner of /etc/conf differed from 0:0 here: same manifest otherwise.
  size_t at = plain.find("/etc/conf f 0644 1000 1000 ");
  ASSERT_NE(at, std::string::npos);
  plain.replace(at, std::string("/etc/conf f 0644 1000 1000 ").size(), "/etc/conf f 0644 0 0 ");
  EXPECT_EQ(m, plain);
}

TEST_F(Tree, UntouchedTreeVerifies) {
  EXPECT_EQ(check(), "ok");
  auto info = verifier::verify_image(img_, verifier::Keyring{ring_, {}}, verifier::Mode::kFull);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->tree_manifest);
  EXPECT_EQ(info->verity_size, 0u);
}

TEST_F(Tree, ContentChangeIsNamed) {
  spit(root_ + "/etc/conf", "name=evil\n");
  std::string msg = check();
  EXPECT_EQ(msg.rfind(prefix() + "tree: /etc/conf: differs from the signed manifest", 0), 0u) << msg;
}

TEST_F(Tree, ModeOwnerXattrChangesAreDetected) {
  ::chmod((root_ + "/usr/bin/app").c_str(), 0755);
  EXPECT_EQ(check().rfind(prefix() + "tree: /usr/bin/app: differs", 0), 0u);
  ::chmod((root_ + "/usr/bin/app").c_str(), 04755);
  EXPECT_EQ(check(), "ok");
  ::lchown((root_ + "/bin").c_str(), 0, 5);
  EXPECT_EQ(check().rfind(prefix() + "tree: /bin: differs", 0), 0u);
  ::lchown((root_ + "/bin").c_str(), 0, 0);
  ASSERT_EQ(::setxattr((root_ + "/usr/bin/app").c_str(), "user.nestbox", "w\n", 2, 0), 0);
  EXPECT_EQ(check().rfind(prefix() + "tree: /usr/bin/app: differs", 0), 0u);
}

TEST_F(Tree, AddedAndRemovedEntriesAreDetected) {
  spit(root_ + "/etc/extra", "");
  EXPECT_EQ(check(), prefix() + "tree: /etc/extra: not in the signed manifest");
  ::unlink((root_ + "/etc/extra").c_str());
  ::unlink((root_ + "/fifo").c_str());
  EXPECT_EQ(check(), prefix() + "tree: /fifo: missing");
  ::mkfifo((root_ + "/fifo").c_str(), 0600);
  ::unlink((root_ + "/usr/bin/app").c_str());
  EXPECT_EQ(check(), prefix() + "tree: /usr/bin/app: missing");
}

TEST_F(Tree, ManifestChangedAfterVerificationIsCaught) {
  auto info = verifier::verify_image(img_, verifier::Keyring{ring_, {}}, verifier::Mode::kFull);
  ASSERT_TRUE(info.ok());
  std::string bytes = slurp(img_);
  bytes[30] ^= 1;  // inside the manifest
  spit(img_, bytes);
  Status st = verifier::verify_tree(img_, *info, root_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, prefix() + "tree manifest: sha256 mismatch");
  EXPECT_EQ(check(), "verify " + img_ + ": tree manifest: sha256 mismatch");
}

}  // namespace
}  // namespace nestbox

namespace nestbox {
namespace {

// Review 6: a tree on writable storage is checked entry by entry to be root's
// alone, but a descriptor opened for writing before a chown or chmod keeps
// writing after the file was hashed (the container reads the live file). A
// file anyone holds open for writing is refused, like an image.
TEST(TreeWriters, AFileHeldOpenForWritingIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (root-owned tree, leases)";
  TempDir dir;
  std::string root = dir / "tree";
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  spit(root + "/app", "#!/bin/sh\n");
  ASSERT_EQ(::chmod(root.c_str(), 0755), 0);
  ASSERT_EQ(::chmod((root + "/app").c_str(), 0755), 0);
  auto walk = [&] {
    auto fd = verifier::open_tree_root(root);
    if (!fd.ok()) return fd.error().message;
    Status st = verifier::walk_tree_fd(fd->get(), [](std::string_view) { return ok_status(); },
                                       verifier::TreeRules{true});
    return st.ok() ? std::string("ok") : st.error().message;
  };
  ASSERT_EQ(walk(), "ok");
  int writer = ::open((root + "/app").c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  EXPECT_EQ(walk(), "tree: /app: open for writing by a process, which could change it after verification");
  ::close(writer);
  EXPECT_EQ(walk(), "ok");
}

}  // namespace
}  // namespace nestbox
