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

}  // namespace
}  // namespace nestbox
