#include <gtest/gtest.h>

#include <map>

#include "kernel-check/expr.h"
#include "kernel-check/version.h"

namespace nestbox::kernel_check {
namespace {

TEST(Version, Parses) {
  const std::pair<const char*, const char*> good[] = {
      {"6.1.192", "6.1.192"}, {"6.1", "6.1.0"}, {"6.1.0-21-amd64", "6.1.0"},
      {"5.10.0+", "5.10.0"}, {"6.18.44-fc-v769", "6.18.44"}, {"2.6.32.27", "2.6.32"},
      {"4.14-rc1", "4.14.0"}, {"5.4.0_openwrt", "5.4.0"}};
  for (auto [in, out] : good) {
    std::optional<Version> v = parse_version(in);
    ASSERT_TRUE(v) << in;
    EXPECT_EQ(to_string(*v), out) << in;
  }
}

TEST(Version, Rejects) {
  for (const char* bad : {"", "6", "six.one", "6.", "6.x", "6.1rc1", "0.1", "6.1 ", "v6.1", "123456.1"})
    EXPECT_FALSE(parse_version(bad)) << bad;
}

TEST(Version, Orders) {
  EXPECT_LT(*parse_version("4.5"), *parse_version("4.15"));
  EXPECT_LT(*parse_version("2.6.36"), *parse_version("3.8"));
  EXPECT_EQ(to_string(Version{}), "-");
}

Tristate lookup(const std::map<std::string, char>& m, std::string_view s) {
  auto it = m.find(std::string(s));
  if (it == m.end()) return Tristate::kNo;
  return it->second == 'y' ? Tristate::kYes : it->second == 'm' ? Tristate::kModule : Tristate::kNo;
}

TEST(Expr, AllClausesAnyAlternative) {
  std::map<std::string, char> cfg = {{"CGROUPS", 'y'}, {"CGROUP_MEM_RES_CTLR", 'y'}, {"SQUASHFS", 'm'},
                                     {"SQUASHFS_XZ", 'y'}};
  auto l = [&](std::string_view s) { return lookup(cfg, s); };
  ExprResult r = evaluate_expr("CGROUPS MEMCG|CGROUP_MEM_RES_CTLR", l, {3, 2, 0});
  EXPECT_TRUE(r.satisfied);
  EXPECT_FALSE(r.module);
  r = evaluate_expr("SQUASHFS SQUASHFS_XZ", l, {6, 1, 0});
  EXPECT_TRUE(r.satisfied);
  EXPECT_TRUE(r.module);  // the bool sub-option is =y, the filesystem itself a module
  r = evaluate_expr("SQUASHFS SQUASHFS_ZSTD", l, {6, 1, 0});
  EXPECT_FALSE(r.satisfied);
  EXPECT_EQ(r.unmet, "CONFIG_SQUASHFS_ZSTD");
  r = evaluate_expr("CGROUPS MEMCG SWAP MEMCG_SWAP|>=6.1", l, {5, 10, 0});
  EXPECT_FALSE(r.satisfied);
  EXPECT_EQ(r.unmet, "CONFIG_MEMCG, CONFIG_SWAP, CONFIG_MEMCG_SWAP (or kernel >= 6.1)");
  cfg["MEMCG"] = 'y';
  cfg["SWAP"] = 'y';
  EXPECT_TRUE(evaluate_expr("CGROUPS MEMCG SWAP MEMCG_SWAP|>=6.1", l, {6, 1, 0}).satisfied);
  EXPECT_FALSE(evaluate_expr("CGROUPS MEMCG SWAP MEMCG_SWAP|>=6.1", l, {6, 0, 9}).satisfied);
  EXPECT_TRUE(evaluate_expr("", l, {6, 1, 0}).satisfied);
}

TEST(Expr, Describe) {
  EXPECT_EQ(describe_expr("CGROUPS MEMCG|CGROUP_MEM_RES_CTLR"), "CONFIG_CGROUPS, CONFIG_MEMCG|CONFIG_CGROUP_MEM_RES_CTLR");
  EXPECT_EQ(describe_expr("UNIX98_PTYS DEVPTS_MULTIPLE_INSTANCES|>=4.7"),
            "CONFIG_UNIX98_PTYS, CONFIG_DEVPTS_MULTIPLE_INSTANCES|kernel>=4.7");
  EXPECT_EQ(describe_expr(""), "");
  EXPECT_EQ(symbols_to_enable("SECCOMP SECCOMP_FILTER", {6, 1, 0}), "CONFIG_SECCOMP, CONFIG_SECCOMP_FILTER");
}

}  // namespace
}  // namespace nestbox::kernel_check
