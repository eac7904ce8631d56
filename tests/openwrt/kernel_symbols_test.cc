// Every KERNEL_* option and kmod-* package nestbox can ask an OpenWrt build
// for exists in OpenWrt: checked for every feature of kernel-check's table
// (features.h) against the names read from openwrt/openwrt's
// config/Config-kernel.in and package/kernel/linux/modules/*.mk
// (fixtures/openwrt-kernel-symbols.txt, with provenance), and each option's
// enclosing block (KERNEL_NAMESPACES for KERNEL_USER_NS) is asked for too.
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "kernel-check/features.h"
#include "kernel-check/openwrt.h"

namespace nestbox::kernel_check {
namespace {

struct Fixture {
  std::map<std::string, std::string> options;  // KERNEL_X -> parent or ""
  std::set<std::string> kmods;
};

Fixture load() {
  Fixture f;
  std::ifstream in(NESTBOX_SOURCE_DIR "/tests/openwrt/fixtures/openwrt-kernel-symbols.txt");
  EXPECT_TRUE(in.good());
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind, name, word, parent;
    words >> kind >> name;
    if (kind == "config") {
      if (words >> word) {
        EXPECT_EQ(word, "if") << line;
        words >> parent;
      }
      f.options[name] = parent;
    } else if (kind == "kmod") {
      f.kmods.insert(name);
    } else {
      EXPECT_TRUE(kind.empty() || kind[0] == '#') << line;
    }
  }
  return f;
}

OpenWrtNeeds needs_of(int bit) {
  ContainerNeeds c;
  c.name = "c";
  c.requirements.push_back({static_cast<Feature>(bit), "k"});
  return openwrt_needs({c});
}

TEST(OpenWrtKernelSymbols, FixtureHasTheNames) {
  Fixture f = load();
  EXPECT_EQ(f.options.count("KERNEL_USER_NS"), 1u);
  EXPECT_EQ(f.options["KERNEL_USER_NS"], "KERNEL_NAMESPACES");
  EXPECT_EQ(f.kmods.count("kmod-loop"), 1u);
}

TEST(OpenWrtKernelSymbols, EveryEmittedOptionExistsWithItsParent) {
  Fixture f = load();
  for (int bit = 0; bit < kFeatureCount; ++bit) {
    OpenWrtNeeds n = needs_of(bit);
    std::set<std::string> opts(n.kernel_options.begin(), n.kernel_options.end());
    for (const std::string& o : opts) {
      auto it = f.options.find(o);
      ASSERT_NE(it, f.options.end()) << kFeatures[bit].name << ": " << o
                                     << " is not in OpenWrt's config/Config-kernel.in";
      if (!it->second.empty()) {
        EXPECT_EQ(opts.count(it->second), 1u) << kFeatures[bit].name << ": " << o << " without " << it->second;
      }
    }
  }
}

TEST(OpenWrtKernelSymbols, EveryKmodExists) {
  Fixture f = load();
  for (int bit = 0; bit < kFeatureCount; ++bit) {
    for (const std::string& p : needs_of(bit).packages)
      EXPECT_EQ(f.kmods.count(p), 1u) << kFeatures[bit].name << ": " << p
                                       << " is not in OpenWrt's package/kernel/linux/modules";
    // Nothing asked for both ways: a kmod feature needs no KERNEL_ option.
    if (kFeatures[bit].openwrt_kmod) {
      EXPECT_TRUE(needs_of(bit).kernel_options.empty()) << kFeatures[bit].name;
    }
  }
}

TEST(OpenWrtKernelSymbols, NamespacesAndCgroupsAskForTheirBlock) {
  OpenWrtNeeds n = needs_of(static_cast<int>(Feature::kUserNs));
  EXPECT_EQ(n.kernel_options, (std::vector<std::string>{"KERNEL_NAMESPACES", "KERNEL_USER_NS"}));
  n = needs_of(static_cast<int>(Feature::kCpuQuota));
  EXPECT_EQ(n.kernel_options, (std::vector<std::string>{"KERNEL_CFS_BANDWIDTH", "KERNEL_CGROUPS",
                                                        "KERNEL_CGROUP_SCHED", "KERNEL_FAIR_GROUP_SCHED"}));
  // No buildroot option: left to kernel-check of the built kernel's config.
  EXPECT_TRUE(needs_of(static_cast<int>(Feature::kProcFs)).kernel_options.empty());
  EXPECT_TRUE(needs_of(static_cast<int>(Feature::kAppArmor)).kernel_options.empty());
}

}  // namespace
}  // namespace nestbox::kernel_check
