// Every shipped example manifest yields all three runtime forms.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "kernel-check/requirements.h"
#include "manifests/effective_seccomp.h"
#include "manifests/manifest.h"
#include "policy/bake.h"
#include "policy/format.h"
#include "policy/render.h"
#include "policy/runtime_forms.h"
#include "tests/policy/test_util.h"

namespace nestbox::policy {
namespace {

const std::string kSource = NESTBOX_SOURCE_DIR;
const std::string kNestbox = std::string(NESTBOX_BINARY_DIR) + "/cli/nestbox";

std::vector<std::string> examples() {
  std::vector<std::string> out;
  DIR* d = opendir((kSource + "/examples").c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.substr(n.size() - 5) == ".toml") out.push_back(kSource + "/examples/" + n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// compose/sign bake the kernel facilities a container needs into its policy;
// nestbox-launch refuses it on a kernel that lacks one.
TEST(Examples, BakedPolicyCarriesTheRequiredKernelFeatures) {
  for (const std::string& f : examples()) {
    SCOPED_TRACE(f);
    auto m = manifests::load_file(f);
    ASSERT_TRUE(m.ok()) << m.error().message;
    auto bin = bake_binary(*m);
    ASSERT_TRUE(bin.ok()) << bin.error().message;
    auto p = decode(std::span<const uint8_t>(bin->data(), bin->size()));
    ASSERT_TRUE(p.ok()) << p.error().message;
    uint64_t want = kernel_check::required_feature_mask(*m);
    EXPECT_NE(want, 0u);
    EXPECT_EQ(p->required_features, want);
    uint64_t seccomp = kernel_check::feature_bit(kernel_check::Feature::kSeccompFilter);
    EXPECT_EQ(p->required_features & seccomp, manifests::effective_seccomp(*m).enabled ? seccomp : 0);
    if (m->name == "weather-app") {  // untrusted-app.toml: a macvlan interface
      EXPECT_TRUE(p->required_features & kernel_check::feature_bit(kernel_check::Feature::kMacvlan));
    }
  }
}

TEST(Examples, EveryExampleYieldsAllRuntimeForms) {
  std::vector<std::string> files = examples();
  ASSERT_FALSE(files.empty());
  testing::TempDir dir;
  std::string configs;
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    auto m = manifests::load_file(f);
    ASSERT_TRUE(m.ok()) << m.error().message;
    std::string out = dir.path() + "/" + m->name;
    ASSERT_EQ(mkdir(out.c_str(), 0755), 0);
    Status st = write_runtime_forms(*m, out);
    ASSERT_TRUE(st.ok()) << st.error().message;
    std::string bin = testing::read_text(out + "/policy.bin");
    auto p = decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bin.data()), bin.size()));
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->name, m->name);
    EXPECT_EQ(p->seccomp.bpf.empty(), !manifests::effective_seccomp(*m).enabled);
    // Reproducible: baking again gives the same bytes.
    auto again = bake_binary(*m);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(std::string(again->begin(), again->end()), bin);
    std::string lxc = testing::read_text(out + "/lxc.conf");
    EXPECT_NE(lxc.find("lxc.rootfs.path = dir:" + out + "/rootfs\n"), std::string::npos) << lxc;
    EXPECT_EQ(access((out + "/lxc.seccomp").c_str(), F_OK) == 0, manifests::effective_seccomp(*m).enabled);
    configs += " " + out + "/config.json";
  }
  std::string msg;
  EXPECT_EQ(testing::run_shell("/usr/bin/python3 " + kSource + "/tests/policy/validate_oci.py " + kSource +
                                   "/tests/policy/oci-schema" + configs, &msg), 0)
      << msg;
}

TEST(Examples, RewritingFormsLeavesNoStaleSeccompProfile) {
  // In a user namespace of its own: no keyring guard filter without [seccomp].
  auto m = manifests::load_file(kSource + "/examples/untrusted-app.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_TRUE(m->seccomp.enabled);
  testing::TempDir dir;
  ASSERT_TRUE(write_runtime_forms(*m, dir.path()).ok());
  EXPECT_EQ(access((dir.path() + "/lxc.seccomp").c_str(), F_OK), 0);
  m->seccomp.enabled = false;
  ASSERT_TRUE(write_runtime_forms(*m, dir.path()).ok());
  EXPECT_NE(access((dir.path() + "/lxc.seccomp").c_str(), F_OK), 0);
  EXPECT_EQ(testing::read_text(dir.path() + "/lxc.conf").find("lxc.seccomp"), std::string::npos);
}

TEST(Examples, InspectPrintsABakedPolicy) {
  auto m = manifests::load_file(kSource + "/examples/nas.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  testing::TempDir dir;
  ASSERT_TRUE(write_runtime_forms(*m, dir.path()).ok());
  std::string out;
  ASSERT_EQ(testing::run_shell(kNestbox + " inspect " + dir.path() + "/policy.bin", &out), 0) << out;
  EXPECT_NE(out.find("name = \"nas\"\n"), std::string::npos) << out;
  EXPECT_NE(out.find("process.model = \"system\"\n"), std::string::npos) << out;
  EXPECT_NE(out.find("process.services[0].name = \"rsyncd\"\n"), std::string::npos) << out;
  EXPECT_NE(out.find("cgroups.memory_max = 134217728\n"), std::string::npos) << out;
  ASSERT_EQ(testing::run_shell(kNestbox + " inspect --json " + dir.path() + "/policy.bin", &out), 0) << out;
  EXPECT_NE(out.find("\"hostname\": \"nas\""), std::string::npos) << out;

  // A damaged policy is bad input (exit 2) with the place named.
  std::string bin = testing::read_text(dir.path() + "/policy.bin");
  bin[4] = 9;
  testing::write_text(dir.path() + "/bad.bin", bin);
  EXPECT_EQ(testing::run_shell(kNestbox + " inspect " + dir.path() + "/bad.bin", &out), 2);
  EXPECT_EQ(out, "nestbox inspect: " + dir.path() +
                     "/bad.bin: policy: offset 4: header.version: unsupported version 9, expected 4\n");
  EXPECT_EQ(testing::run_shell(kNestbox + " inspect " + dir.path() + "/missing.bin", &out), 2);  // a missing input is bad input
}

}  // namespace
}  // namespace nestbox::policy
