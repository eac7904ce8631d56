#include "kernel-check/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace nestbox::kernel_check {
namespace {

Report sample() {
  Report r;
  r.source = "config test";
  r.version = {4, 4, 0};
  r.version_source = "--kernel-version";
  r.facilities.push_back({&facility(Feature::kMountNs), State::kAvailable, "always", ""});
  r.facilities.push_back({&facility(Feature::kUserNs), State::kMissing, "", "CONFIG_USER_NS"});
  r.facilities.push_back({&facility(Feature::kCgroupNs), State::kTooOld, "first in 4.6.0", ""});
  r.facilities.push_back({&facility(Feature::kOverlayFs), State::kModule, "CONFIG_OVERLAY_FS=m", ""});
  ContainerNeeds a{"a", "a.toml", {{Feature::kMountNs, "namespaces.mount"}, {Feature::kOverlayFs, "rootfs.strategy"}}, {}};
  ContainerNeeds b{"b\"q", "b.toml",
                   {{Feature::kUserNs, "namespaces.user"}, {Feature::kUserNs, "users.user_namespace"},
                    {Feature::kCgroupNs, "namespaces.cgroup"}, {Feature::kPids, "cgroups.pids_max"}},
                   Version{5, 10, 0}};
  add_containers(&r, {a, b});
  return r;
}

TEST(Report, Verdicts) {
  Report r = sample();
  ASSERT_EQ(r.containers.size(), 2u);
  EXPECT_TRUE(r.containers[0].enforceable());
  EXPECT_FALSE(r.containers[1].enforceable());
  EXPECT_FALSE(r.containers[1].kernel_min_ok);
  EXPECT_EQ(r.containers[1].uses[0].enable, "CONFIG_USER_NS");
  EXPECT_EQ(r.containers[1].uses[2].enable, "kernel >= 4.6.0");
  EXPECT_EQ(r.containers[1].uses[3].state, State::kUnknown);  // no status for pids: fails closed
  EXPECT_FALSE(r.all_enforceable());
}

TEST(Report, Text) {
  std::string t = render_text(sample());
  EXPECT_NE(t.find("  Mount namespace       2.4.19   X\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  User namespace        3.8.0    " + std::string(19, ' ') + "X\n"), std::string::npos) << t;
  EXPECT_NE(t.find("    user_ns                       missing   enable CONFIG_USER_NS\n"), std::string::npos);
  EXPECT_NE(t.find("    cgroup_ns                     too old   needs kernel >= 4.6.0, this is 4.4.0\n"),
            std::string::npos);
  EXPECT_NE(t.find("  a (a.toml): enforceable\n"), std::string::npos);
  EXPECT_NE(t.find("    ok       overlayfs               rootfs.strategy (module)\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  b\"q (b.toml): CANNOT BE ENFORCED (4 missing)\n"), std::string::npos) << t;
  EXPECT_NE(t.find("    MISSING  user_ns                 namespaces.user, users.user_namespace; enable "
                   "CONFIG_USER_NS\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("    TOO OLD  kernel_min              needs 5.10.0, this is 4.4.0\n"), std::string::npos);
  EXPECT_NE(t.find("verdict: some containers CANNOT be enforced"), std::string::npos);
}

TEST(Report, JsonParsesAndCarriesEverything) {
  nlohmann::json j = nlohmann::json::parse(render_json(sample()));
  EXPECT_EQ(j["kernel"]["version"], "4.4.0");
  EXPECT_EQ(j["kernel"]["from"], "--kernel-version");
  ASSERT_EQ(j["talk_table"].size(), 2u);  // mount_ns and user_ns are the talk's columns here
  EXPECT_EQ(j["facilities"][1]["name"], "user_ns");
  EXPECT_EQ(j["facilities"][1]["bit"], 5);
  EXPECT_EQ(j["facilities"][1]["config"], "CONFIG_USER_NS");
  EXPECT_EQ(j["facilities"][1]["checked_by"][0], "talk");
  EXPECT_EQ(j["containers"][1]["name"], "b\"q");
  EXPECT_EQ(j["containers"][1]["enforceable"], false);
  EXPECT_EQ(j["containers"][1]["kernel_min"], "5.10.0");
  EXPECT_EQ(j["containers"][1]["uses"].size(), 4u);
  EXPECT_EQ(j["containers"][1]["uses"][3]["state"], "unknown");
  EXPECT_EQ(j["enforceable"], false);
  Report empty;
  nlohmann::json e = nlohmann::json::parse(render_json(empty));
  EXPECT_TRUE(e["containers"].empty());
  EXPECT_EQ(e["enforceable"], true);
}

}  // namespace
}  // namespace nestbox::kernel_check
