// The thin front ends: nestbox keygen / sign / verify, exit statuses and messages.
#include <gtest/gtest.h>

#include "tests/signer/fixture.h"

namespace nestbox {
namespace {

using testing::run;
using testing::slurp;
using testing::spit;
using testing::TempDir;

const std::string kNestbox = std::string(NESTBOX_BINARY_DIR) + "/cli/nestbox";

TEST(Cli, KeygenSignVerifyRoundTripAndExitStatuses) {
  TempDir d;
  std::string out;
  ASSERT_EQ(run(kNestbox + " keygen -o " + d / "old" + " -t ecdsa-p256", &out), 0) << out;
  std::string old_id = out.substr(0, 64);
  ASSERT_EQ(run(kNestbox + " keygen -o " + d / "new", &out), 0) << out;
  std::string new_id = out.substr(0, 64);
  ASSERT_EQ(run(kNestbox + " keygen --id " + d / "new.pub", &out), 0);
  EXPECT_EQ(out, new_id + "\n");
  EXPECT_EQ(run(kNestbox + " keygen -o " + d / "x -t dsa", &out), 2);
  EXPECT_EQ(out, "nestbox keygen: key type 'dsa': expected ed25519, ecdsa-p256 or rsa-3072\n");

  std::string sqfs = testing::make_squashfs(d, "s", 1, 2, 5000);
  spit(d / "policy.bin", "baked\n");
  std::string img = d / "s.img";
  ASSERT_EQ(run("SOURCE_DATE_EPOCH=1000 " + kNestbox + " sign --squashfs " + sqfs + " --policy " + d / "policy.bin" +
                    " --name web --version 4 --version-string 4.0 --arch aarch64 --compat board -k " + d / "old.key" +
                    " -k file:" + d / "new.key" + " -o " + img,
                &out),
            0)
      << out;
  EXPECT_NE(out.find("signed by " + old_id + " " + new_id), std::string::npos) << out;
  std::string ring = d / "ring";
  ::mkdir(ring.c_str(), 0755);
  spit(ring + "/new.pub", slurp(d / "new.pub"));
  ASSERT_EQ(run(kNestbox + " verify " + img + " --keyring " + ring + " --json", &out), 0) << out;
  EXPECT_NE(out.find("\"name\":\"web\",\"version\":4,\"version_string\":\"4.0\",\"arch\":\"aarch64\","
                     "\"compat\":\"board\",\"created\":1000"),
            std::string::npos)
      << out;
  EXPECT_EQ(run(kNestbox + " verify " + img + " --keyring " + ring + " --mode verity", &out), 0) << out;
  EXPECT_EQ(run(kNestbox + " verify " + img + " --keyring " + ring + " --arch mipsel", &out), 1);
  EXPECT_EQ(out, "nestbox verify: image web is for arch 'aarch64', this device is 'mipsel'\n");
  spit(d / "revoked", new_id + "\n");
  EXPECT_EQ(run(kNestbox + " verify " + img + " --keyring " + ring + " --revoked " + d / "revoked", &out), 1);
  EXPECT_EQ(out, "nestbox verify: verify " + img + ": signatures: no signature by a trusted, non-revoked key (" +
                     old_id + " untrusted, " + new_id + " revoked)\n");
  ::mkdir((d / "state").c_str(), 0755);
  spit(d / "state/web.version", "9\n");
  EXPECT_EQ(run(kNestbox + " verify " + img + " --keyring " + ring + " --state-dir " + d / "state", &out), 1);
  EXPECT_EQ(run(kNestbox + " verify " + img + " --keyring " + ring + " --state-dir " + d / "state" +
                    " --allow-downgrade", &out), 0) << out;
  // A missing input file is bad input, whatever the command (docs/cli.md).
  EXPECT_EQ(run(kNestbox + " verify " + d / "missing.img --keyring " + ring, &out), 2);
  EXPECT_EQ(run(kNestbox + " sign --squashfs " + sqfs + " --name a --arch x -k " + d / "nokey -o " + d / "z.img", &out), 2);
  EXPECT_EQ(out, "nestbox sign: key " + d / "nokey: No such file or directory\n");
}

TEST(Cli, TreeImages) {
  TempDir d;
  std::string out;
  ASSERT_EQ(run(kNestbox + " keygen -o " + d / "k", &out), 0) << out;
  std::string root = d / "root";
  ::mkdir(root.c_str(), 0755);
  spit(root + "/file", "content\n");
  std::string img = d / "t.img";
  ASSERT_EQ(run(kNestbox + " sign --tree " + root + " --name t --version 1 --arch x86_64 -k " + d / "k.key" + " -o " +
                    img, &out), 0) << out;
  ::mkdir((d / "ring").c_str(), 0755);
  spit(d / "ring/k.pub", slurp(d / "k.pub"));
  ASSERT_EQ(run(kNestbox + " verify " + img + " --keyring " + d / "ring --tree " + root, &out), 0) << out;
  EXPECT_NE(out.find("kind = tree"), std::string::npos);
  spit(root + "/file", "changed\n");
  EXPECT_EQ(run(kNestbox + " verify " + img + " --keyring " + d / "ring --tree " + root, &out), 1);
  EXPECT_NE(out.find("tree: /file: differs from the signed manifest"), std::string::npos) << out;
}

}  // namespace
}  // namespace nestbox

namespace nestbox {
namespace {

// Every example manifest's identity goes into a signed image that verifies on
// a device with the same arch/compat. The payload is a stand-in squashfs made
// with mksquashfs until the composer's writer is merged.
TEST(Cli, EveryExampleManifestSignsAndVerifies) {
  TempDir d;
  std::string out;
  ASSERT_EQ(run(kNestbox + " keygen -o " + d / "k", &out), 0) << out;
  ::mkdir((d / "ring").c_str(), 0755);
  spit(d / "ring/k.pub", slurp(d / "k.pub"));
  std::string sqfs = testing::make_squashfs(d, "payload", 1, 1, 1000);
  int n = 0;
  for (const char* name : {"dns", "nas", "untrusted-app"}) {
    std::string manifest = std::string(NESTBOX_SOURCE_DIR) + "/examples/" + name + ".toml";
    std::string img = d / (std::string(name) + ".img");
    spit(d / "policy", std::string("policy of ") + name);
    ASSERT_EQ(run(kNestbox + " sign --manifest " + manifest + " --squashfs " + sqfs + " --policy " + d / "policy" +
                      " -k " + d / "k.key -o " + img, &out), 0) << out;
    ASSERT_EQ(run(kNestbox + " verify " + img + " --keyring " + d / "ring --arch x86_64 --compat nestbox-demo-hgw",
                  &out), 0) << out;
    EXPECT_NE(out.find("compat = nestbox-demo-hgw"), std::string::npos) << out;
    EXPECT_EQ(run(kNestbox + " verify " + img + " --keyring " + d / "ring --arch x86_64 --compat other-board", &out), 1);
    ++n;
  }
  EXPECT_EQ(n, 3);
}

}  // namespace
}  // namespace nestbox
