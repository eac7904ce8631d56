#include "kernel-check/requirements.h"

#include <gtest/gtest.h>

#include "tests/kernel-check/fixtures.h"

namespace nestbox::kernel_check {
namespace {

std::vector<std::string> render(const std::vector<Requirement>& reqs) {
  std::vector<std::string> out;
  for (const Requirement& r : reqs) out.push_back(std::string(facility(r.feature).name) + " <- " + r.key);
  return out;
}

TEST(Requirements, DefaultManifest) {
  manifests::Manifest m;  // loader defaults: every namespace new, squashfs xz, freezer allowed
  m.name = "default";
  std::vector<std::string> expected = {
      "mount_ns <- namespaces.mount", "uts_ns <- namespaces.uts",   "ipc_ns <- namespaces.ipc",
      "pid_ns <- namespaces.pid",     "net_ns <- namespaces.net",   "user_ns <- namespaces.user",
      "cgroup_ns <- namespaces.cgroup", "no_new_privs <- security.no_new_privs",
      "cgroup_v2 <- cgroups.freezer", "cgroup_freeze <- cgroups.freezer", "loop <- rootfs.strategy",
      "squashfs <- rootfs.strategy",  "squashfs_xz <- rootfs.compressor", "procfs <- mounts.proc",
      "sysfs <- mounts.sys",          "tmpfs <- mounts.dev",        "devpts <- mounts.dev"};
  EXPECT_EQ(render(requirements_of(m)), expected);
}

TEST(Requirements, NasCaseStudy) {
  std::vector<std::string> r = render(requirements_of(testing::nas_manifest()));
  auto has = [&](const std::string& s) { return std::find(r.begin(), r.end(), s) != r.end(); };
  EXPECT_FALSE(has("user_ns <- namespaces.user"));  // user = host
  EXPECT_TRUE(has("memory <- cgroups.memory_max"));
  EXPECT_TRUE(has("cgroup_v2 <- cgroups.memory_max"));
  EXPECT_TRUE(has("cpu <- cgroups.cpu_weight"));
  EXPECT_TRUE(has("pids <- cgroups.pids_max"));
  EXPECT_TRUE(has("tmpfs <- mounts.tmpfs[0]"));
  EXPECT_TRUE(has("ubifs <- mounts.storage[0].fstype"));
  EXPECT_FALSE(has("loop <- mounts.storage[0].kind"));  // a partition, not an image
  EXPECT_TRUE(has("veth <- network.interfaces[0].type"));
  EXPECT_TRUE(has("bridge <- network.interfaces[0].bridge"));
  EXPECT_TRUE(has("bridge <- network.interfaces[1].bridge"));
  EXPECT_TRUE(has("ipv6 <- network.interfaces[1].addresses[1]"));
  EXPECT_FALSE(has("ipv6 <- network.interfaces[0].addresses[0]"));
  EXPECT_FALSE(has("seccomp_filter <- seccomp.enabled"));
  // No [seccomp], host user namespace: the keyring guard is a filter too.
  EXPECT_TRUE(has("seccomp_filter <- namespaces.user (keyring guard)"));
}

TEST(Requirements, AppCaseStudy) {
  std::vector<std::string> r = render(requirements_of(testing::app_manifest()));
  auto has = [&](const std::string& s) { return std::find(r.begin(), r.end(), s) != r.end(); };
  EXPECT_TRUE(has("user_ns <- namespaces.user"));
  EXPECT_TRUE(has("user_ns <- users.user_namespace"));
  EXPECT_TRUE(has("ambient_caps <- security.capabilities"));
  EXPECT_TRUE(has("seccomp_filter <- seccomp.enabled"));
  EXPECT_TRUE(has("seccomp_kill_process <- seccomp.default_action"));
  EXPECT_TRUE(has("seccomp_log <- seccomp.deny[0].action"));
  EXPECT_TRUE(has("overlayfs <- rootfs.strategy"));
  EXPECT_TRUE(has("squashfs_zstd <- rootfs.compressor"));
  EXPECT_FALSE(has("squashfs_xz <- rootfs.compressor"));
  EXPECT_TRUE(has("memory_swap <- cgroups.memory_swap_max"));
  EXPECT_TRUE(has("io_weight <- cgroups.io_weight"));
  EXPECT_TRUE(has("macvlan <- network.interfaces[0].type"));
  EXPECT_FALSE(has("bridge <- network.interfaces[0].bridge"));
}

TEST(Requirements, StrategiesAndStorage) {
  manifests::Manifest m;
  m.rootfs.strategy = manifests::RootfsStrategy::kTree;
  m.cgroups.freezer = false;
  m.mounts.dev = manifests::DevMode::kNone;
  manifests::StorageMount img;
  img.kind = manifests::StorageKind::kImage;
  img.fstype = "f2fs";
  manifests::StorageMount ov;
  ov.kind = manifests::StorageKind::kOverlay;
  m.mounts.storage = {img, ov};
  std::vector<std::string> r = render(requirements_of(m));
  auto has = [&](const std::string& s) { return std::find(r.begin(), r.end(), s) != r.end(); };
  EXPECT_FALSE(has("squashfs <- rootfs.strategy"));
  EXPECT_FALSE(has("cgroup_v2 <- cgroups.freezer"));
  EXPECT_TRUE(has("loop <- mounts.storage[0].kind"));
  EXPECT_TRUE(has("f2fs <- mounts.storage[0].fstype"));
  EXPECT_TRUE(has("overlayfs <- mounts.storage[1].kind"));
  EXPECT_FALSE(has("tmpfs <- mounts.dev"));
}

TEST(Requirements, EveryCompressorMapsToItsSquashfsFeature) {
  using manifests::Compressor;
  const std::pair<Compressor, Feature> table[] = {
      {Compressor::kGzip, Feature::kSquashfsGzip}, {Compressor::kXz, Feature::kSquashfsXz},
      {Compressor::kZstd, Feature::kSquashfsZstd}, {Compressor::kLz4, Feature::kSquashfsLz4},
      {Compressor::kLzo, Feature::kSquashfsLzo}};
  for (auto [comp, feature] : table) {
    manifests::Manifest m;
    m.rootfs.compressor = comp;
    uint64_t mask = required_feature_mask(m);
    EXPECT_TRUE(mask & feature_bit(feature)) << manifests::to_string(comp);
    for (auto [other, other_feature] : table)
      if (other != comp) {
        EXPECT_FALSE(mask & feature_bit(other_feature));
      }
  }
}

TEST(Requirements, MaskMatchesList) {
  manifests::Manifest m = testing::app_manifest();
  uint64_t mask = 0;
  for (const Requirement& r : requirements_of(m)) mask |= uint64_t{1} << static_cast<int>(r.feature);
  EXPECT_EQ(required_feature_mask(m), mask);
  EXPECT_TRUE(mask & feature_bit(Feature::kUserNs));
  EXPECT_EQ(feature_bit(Feature::kUserNs), uint64_t{1} << 5);  // baked into images: never renumber
}

TEST(Requirements, KernelMinIsCarried) {
  manifests::Manifest m;
  m.kernel_min = manifests::KernelVersion{5, 15, 0};
  ContainerNeeds n = needs_of(m);
  ASSERT_TRUE(n.kernel_min);
  EXPECT_EQ(*n.kernel_min, (Version{5, 15, 0}));
}

}  // namespace
}  // namespace nestbox::kernel_check
