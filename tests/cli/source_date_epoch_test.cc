// SOURCE_DATE_EPOCH is read once by each front end that writes dated output
// (compose, plan, squash, sign) and refused the same way by all of them: a
// negative or malformed value is bad input (exit 2) before anything is
// written, never a silent 0, 1970 or "now".
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/cli_run.h"

namespace nestbox {
namespace {

using testing_support::CliStreams;
using testing_support::run_cli;

TEST(SourceDateEpochCli, EveryCommandRefusesABadValueTheSameWay) {
  std::string dir = ::testing::TempDir() + "/sde-cli";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/staging/bin && echo x > " + dir +
                         "/staging/bin/tool && chmod 755 " + dir + "/staging/bin/tool")
                            .c_str()),
            0);
  std::ofstream(dir + "/a.toml") << "name = \"a\"\nversion = 1\n[process]\ncommand = [\"/bin/tool\"]\n"
                                    "[rootfs]\nstrategy = \"squashfs\"\n[[rootfs.source]]\npath = \"staging\"\n";
  const std::string commands[] = {
      "compose --out " + dir + "/out " + dir + "/a.toml",
      "plan " + dir + "/a.toml",
      "squash " + dir + "/staging " + dir + "/a.sqfs",
      "sign -k " + dir + "/no.key --squashfs " + dir + "/a.sqfs -o " + dir + "/a.img",
  };
  for (const char* value : {"-1", "12x", "4294967296"}) {
    for (const std::string& c : commands) {
      auto r = run_cli(c, CliStreams::kStdoutAndStderr, std::string("SOURCE_DATE_EPOCH=") + value);
      EXPECT_EQ(r.status, 2) << c << ": " << r.out;
      EXPECT_NE(r.out.find(std::string("SOURCE_DATE_EPOCH='") + value +
                         "': expected seconds since 1970 (a whole number from 0 to 4294967295)"),
                std::string::npos)
          << c << ": " << r.out;
    }
  }
  struct stat st{};
  EXPECT_NE(::stat((dir + "/out").c_str(), &st), 0) << "compose wrote before refusing";
  EXPECT_NE(::stat((dir + "/a.img").c_str(), &st), 0) << "sign wrote before refusing";
}

// --all-time (compose, squash) sets every mtime to SOURCE_DATE_EPOCH, as
// mksquashfs -all-time does; without it an older mtime is kept (only later
// ones are clamped). Without SOURCE_DATE_EPOCH it is bad input.
TEST(SourceDateEpochCli, AllTimeSetsEveryMtime) {
  std::string dir = ::testing::TempDir() + "/sde-all-time";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir + "/staging/bin && echo x > " + dir +
                         "/staging/bin/tool && chmod 755 " + dir + "/staging/bin/tool && touch -h -d @5 " + dir +
                         "/staging/bin/tool")
                            .c_str()),
            0);
  std::ofstream(dir + "/a.toml") << "name = \"a\"\nversion = 1\n[process]\ncommand = [\"/bin/tool\"]\n"
                                    "[rootfs]\nstrategy = \"tree\"\n[[rootfs.source]]\npath = \"staging\"\n";
  auto mtime = [](const std::string& path) {
    struct stat st{};
    return ::lstat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtim.tv_sec) : -1;
  };
  const std::string sde = "SOURCE_DATE_EPOCH=1000000000";
  auto r = run_cli("compose -q --out " + dir + "/clamped " + dir + "/a.toml", CliStreams::kStdoutAndStderr, sde);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(mtime(dir + "/clamped/a/bin/tool"), 5);
  r = run_cli("compose -q --all-time --out " + dir + "/all " + dir + "/a.toml", CliStreams::kStdoutAndStderr, sde);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(mtime(dir + "/all/a/bin/tool"), 1000000000);
  EXPECT_EQ(mtime(dir + "/all/a/bin"), 1000000000);
  r = run_cli("compose --all-time --out " + dir + "/none " + dir + "/a.toml", CliStreams::kStdoutAndStderr,
              "env -u SOURCE_DATE_EPOCH");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "nestbox compose: --all-time sets every mtime to SOURCE_DATE_EPOCH, which is not set\n");
  // squash: the image's inodes, as unsquashfs lists them.
  r = run_cli("squash --all-time " + dir + "/staging " + dir + "/a.sqfs", CliStreams::kStdoutAndStderr, sde);
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_cli("squash " + dir + "/staging " + dir + "/b.sqfs", CliStreams::kStdoutAndStderr, sde);
  ASSERT_EQ(r.status, 0) << r.out;
  auto listing = [](const std::string& img) {
    std::string out;
    FILE* p = popen(("TZ=UTC unsquashfs -lls " + img + " 2>&1").c_str(), "r");
    char buf[4096];
    while (p && fgets(buf, sizeof buf, p)) out += buf;
    if (p) pclose(p);
    return out;
  };
  std::string all = listing(dir + "/a.sqfs"), clamped = listing(dir + "/b.sqfs");
  EXPECT_NE(all.find("2001-09-09 01:46 squashfs-root/bin/tool"), std::string::npos) << all;
  EXPECT_NE(clamped.find("1970-01-01 00:00 squashfs-root/bin/tool"), std::string::npos) << clamped;
  r = run_cli("squash --all-time " + dir + "/staging " + dir + "/c.sqfs", CliStreams::kStdoutAndStderr,
              "env -u SOURCE_DATE_EPOCH");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "nestbox squash: --all-time sets every mtime to SOURCE_DATE_EPOCH, which is not set\n");
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace nestbox
