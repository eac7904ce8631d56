// The composer's CLI front ends, run as a user would: exit statuses, output
// formats, and agreement of `nestbox closure` with `lddtree -l`.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "tests/composer/elf_builder.h"
#include "tests/composer/test_util.h"

namespace nestbox::composer {
namespace {

namespace fs = std::filesystem;
using testing::run;
using testing::TempDir;
using testing::write;

const std::string kNestbox = std::string(NESTBOX_BINARY_DIR) + "/cli/nestbox";

std::set<std::string> lines(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.insert(l);
  return out;
}

TEST(Cli, ClosureMatchesLddtreeList) {
  if (access("/usr/bin/lddtree", X_OK) != 0) GTEST_SKIP() << "pax-utils not installed";
  int st = 0;
  std::string ours = run(kNestbox + " closure --root / /usr/bin/ls /usr/bin/ssh", &st);
  ASSERT_EQ(st, 0);
  std::string theirs = run("/usr/bin/python3 /usr/bin/lddtree --root / -l /usr/bin/ls /usr/bin/ssh");
  EXPECT_EQ(lines(ours), lines(theirs));
  std::string json = run(kNestbox + " closure --json --root / /usr/bin/ls", &st);
  ASSERT_EQ(st, 0);
  EXPECT_NE(json.find("\"found_via\": \"interp\""), std::string::npos);
}

TEST(Cli, ClosureErrorsAreBadInput) {
  TempDir d;
  testing::ElfSpec s;
  s.interp = "/lib/ld.so";
  s.needed = {"libmissing.so.1"};
  write(d / "lib/ld.so", testing::build_elf({}));
  write(d / "bin/app", testing::build_elf(s), 0755);
  int st = 0;
  std::string err = run(kNestbox + " closure --root " + d.path() + " /bin/app 2>&1", &st);
  EXPECT_EQ(st, 2);
  EXPECT_EQ(err, "nestbox closure: /bin/app: library libmissing.so.1 (needed by /bin/app) not "
                 "found in the root\n");
}

TEST(Cli, ComposeAndPlanFromManifests) {
  TempDir d;
  write(d / "staging/bin/tool", "tool", 0755);
  write(d / "staging/etc/conf", "conf");
  write(d / "staging/etc/other", "other");
  for (const char* name : {"one", "two"}) {
    write(d / (std::string(name) + ".toml"),
          std::string("schema = 1\nname = \"") + name +
              "\"\nversion = 1\n[process]\ncommand = [\"/bin/tool\"]\n[rootfs]\n"
              "strategy = \"tree\"\ninclude = [\"/bin/**\", \"/etc/conf\"]\n"
              "[[rootfs.source]]\npath = \"staging\"\n");
  }
  int st = 0;
  std::string out = run(kNestbox + " compose --out " + d / "out" + " " + d / "one.toml" + " " +
                            d / "two.toml",
                        &st);
  ASSERT_EQ(st, 0) << out;
  EXPECT_NE(out.find("two (tree): " + d / "out/two" + ": 8 entries, 2 files, 8 bytes, 2 linked, 0 copied"),
            std::string::npos)
      << out;
  EXPECT_TRUE(fs::exists(d / "out/one/etc/conf"));
  EXPECT_FALSE(fs::exists(d / "out/one/etc/other"));
  // The mount points the policy needs (proc, dev, sys by default) are made.
  for (const char* p : {"/proc", "/dev", "/sys"}) EXPECT_TRUE(fs::is_directory(d / "out/one" + p)) << p;
  std::string plan = run(kNestbox + " plan " + d / "one.toml" + " " + d / "two.toml", &st);
  ASSERT_EQ(st, 0) << plan;
  for (const char* s : {"squashfs", "overlay", "host-hardlink", "tree"})
    EXPECT_NE(plan.find(std::string("\n") + s + " "), std::string::npos) << plan;
  std::string json = run(kNestbox + " plan --json " + d / "one.toml", &st);
  ASSERT_EQ(st, 0);
  EXPECT_NE(json.find("\"flash_bytes\""), std::string::npos);
  // The squashfs strategy has its writer in this build: OUT/NAME.sqfs.
  std::string img = run(kNestbox + " compose --strategy squashfs --out " + d / "out2" + " " +
                            d / "one.toml 2>&1",
                        &st);
  EXPECT_EQ(st, 0) << img;
  EXPECT_NE(img.find("one (squashfs): " + d / "out2/one.sqfs"), std::string::npos) << img;
  EXPECT_TRUE(fs::exists(d / "out2/one.sqfs"));
}

}  // namespace
}  // namespace nestbox::composer
