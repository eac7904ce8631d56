// The `nestbox` front end over the manifests library: exit statuses and output.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "manifests/manifest.h"
#include "tests/cli_run.h"

namespace nestbox {
namespace {

using testing_support::CliRun;

CliRun run(const std::string& args) {
  return testing_support::run_cli(args, testing_support::CliStreams::kStdoutAndStderr);
}

std::string src(const std::string& rel) { return std::string(NESTBOX_SOURCE_DIR) + "/" + rel; }

// The examples' sources (examples/staging) are what scripts/demo.sh builds:
// the manifests alone here.
TEST(Cli, ValidateExamplesExitsZero) {
  CliRun r = run("validate --no-sources " + src("examples/nas.toml") + " " + src("examples/untrusted-app.toml") + " " +
              src("examples/dns.toml"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("nas.toml: ok (nas version 3)"), std::string::npos) << r.out;
}

TEST(Cli, MalformedManifestExitsTwoWithPlace) {
  std::string path = ::testing::TempDir() + "/broken.toml";
  std::ofstream(path) << "name = \"x\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n"
                         "[[rootfs.source]]\npath = \"s\"\n[cgroups]\npids_max = \"many\"\n";
  CliRun r = run("validate " + path);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "nestbox validate: " + path +
                       ":9:12: cgroups.pids_max: got a string; expected an integer from 1 to 4194304\n");
}

// --json: every problem with its place, as CI reads it; stdout only.
TEST(Cli, ValidateJsonNamesEachProblemWithItsPlace) {
  std::string path = ::testing::TempDir() + "/broken-json.toml";
  std::ofstream(path) << "name = \"x\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n"
                         "[[rootfs.source]]\npath = \"s\"\n[cgroups]\npids_max = \"many\"\n";
  CliRun r = run("validate --json " + path);
  EXPECT_EQ(r.status, 2);
  // The problem is also reported on stderr, as without --json.
  std::string report = "nestbox validate: " + path + ":9:12: cgroups.pids_max: got a string; expected an integer from 1 to 4194304\n";
  ASSERT_NE(r.out.find(report), std::string::npos) << r.out;
  r.out.erase(r.out.find(report), report.size());
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_TRUE(j["manifests"].empty());
  ASSERT_EQ(j["problems"].size(), 1u) << r.out;
  EXPECT_EQ(j["problems"][0]["file"], path);
  EXPECT_EQ(j["problems"][0]["line"], 9);
  EXPECT_EQ(j["problems"][0]["column"], 12);
  EXPECT_EQ(j["problems"][0]["message"], "cgroups.pids_max: got a string; expected an integer from 1 to 4194304");

  r = run("validate --no-sources --json " + src("examples/nas.toml"));
  EXPECT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], true);
  ASSERT_EQ(j["manifests"].size(), 1u);
  EXPECT_EQ(j["manifests"][0]["name"], "nas");
  EXPECT_EQ(j["manifests"][0]["version"], 3);
}

// validate refuses what the squashfs writer cannot produce, with its place,
// as compose would (Debian's libsquashfs has no LZO).
TEST(Cli, ValidateRefusesACompressorTheWriterLacks) {
  std::string path = ::testing::TempDir() + "/lzo.toml";
  std::ofstream(path) << "name = \"x\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n"
                         "compressor = \"lzo\"\n[[rootfs.source]]\npath = \"s\"\n";
  CliRun r = run("validate " + path);
  if (r.status == 0) GTEST_SKIP() << "this libsquashfs can write LZO";
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out.rfind("nestbox validate: " + path + ":6:14: rootfs.compressor: \"lzo\" is not produced by this "
                        "build's squashfs writer (libsquashfs); expected one of \"gzip\", \"xz\"", 0), 0u) << r.out;
  // A tree has no compressor: the same manifest with strategy "tree" passes.
  std::ofstream(path) << "name = \"x\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n"
                         "strategy = \"tree\"\n[[rootfs.source]]\npath = \"s\"\n";
  EXPECT_EQ(run("validate --no-sources " + path).status, 0);
}

// validate selects each container's files as compose would (unless
// --no-sources): a missing source directory and a binary that is not in it
// are found before the build, placed at the manifest's [[rootfs.source]];
// --staging resolves the sources as compose --staging does.
TEST(Cli, ValidateSourcesFindsWhatComposeWouldRefuse) {
  std::string dir = ::testing::TempDir() + "/validate-sources";
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "/stage/bin' && cp /bin/busybox '" + dir +
               "/stage/bin/busybox'").c_str());
  std::string path = dir + "/m.toml";
  auto manifest = [&](const std::string& source, const std::string& binary) {
    std::ofstream(path) << "name = \"m\"\nversion = 1\n[process]\ncommand = [\"" << binary
                        << "\"]\n[rootfs]\nstrategy = \"tree\"\nbinaries = [\"" << binary
                        << "\"]\n\n[[rootfs.source]]\npath = \"" << source << "\"\n";
  };
  manifest("nostage", "/bin/busybox");
  EXPECT_EQ(run("validate -q --no-sources " + path).status, 0);  // the manifest alone
  CliRun r = run("validate " + path);  // the default: compose would refuse it, so validate does
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "nestbox validate: " + path + ":9:1: rootfs: staging directory " + dir +
                       "/nostage: No such file or directory\n") << r.out;
  manifest("stage", "/bin/nothere");
  r = run("validate --sources " + path);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "nestbox validate: " + path + ":9:1: rootfs: m: rootfs.binaries: /bin/nothere: not a regular "
                   "file inside the root\n") << r.out;
  manifest("stage", "/bin/busybox");
  r = run("validate --sources " + path);
  EXPECT_EQ(r.status, 0) << r.out;
  manifest(".", "/bin/busybox");  // "." is --staging itself
  r = run("validate --sources --staging " + dir + "/stage " + path);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(run("validate --staging " + dir + "/stage " + path).status, 0);  // --sources is the default
  EXPECT_EQ(run("validate --no-sources --staging " + dir + "/stage " + path).out,
            "nestbox validate: --staging: not with --no-sources\n");
  std::system(("rm -rf '" + dir + "'").c_str());
}

// A failing source is placed at its own [[rootfs.source]], not the first one.
TEST(Cli, ValidateSourcesPlacesTheFailingSource) {
  std::string dir = ::testing::TempDir() + "/validate-second-source";
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "/stage'").c_str());
  std::string path = dir + "/m.toml";
  std::ofstream(path) << "name = \"m\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n"
                         "strategy = \"tree\"\n[[rootfs.source]]\npath = \"stage\"\n[[rootfs.source]]\npath = \"nostage\"\n";
  CliRun r = run("validate " + path);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "nestbox validate: " + path + ":9:1: rootfs: staging directory " + dir +
                       "/nostage: No such file or directory\n") << r.out;
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST(Cli, MissingFileIsBadInput) {
  CliRun r = run("validate /nonexistent/x.toml");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "nestbox validate: open /nonexistent/x.toml: No such file or directory\n");
}

// One convention for every command: an unknown command is named with the
// commands there are; the argument parser's errors carry the command; a
// missing input file is bad input (2) whatever the command.
TEST(Cli, UnknownCommandListsTheCommands) {
  CliRun r = run("frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out.rfind("nestbox: unknown command 'frobnicate'; commands: validate, show, ", 0), 0u) << r.out;
}

TEST(Cli, ParserErrorsNameTheCommand) {
  CliRun r = run("squash --level");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out.rfind("nestbox squash: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("Run 'nestbox squash --help' for the options."), std::string::npos) << r.out;
}

TEST(Cli, MissingInputIsBadInputInEveryCommand) {
  for (const char* cmd : {"validate /nonexistent/x.toml", "show /nonexistent/x.toml", "inspect /nonexistent/p.bin",
                          "verify /nonexistent/x.img --keyring /nonexistent/keys",
                          "kernel-check --config /nonexistent/.config",
                          "squash /nonexistent/dir /tmp/nestbox-cli-never.img",
                          "compose --out /tmp/nestbox-cli-never /nonexistent/x.toml", "plan /nonexistent/x.toml",
                          "plan --measure /nonexistent/x.toml", "closure --root /nonexistent /bin/sh",
                          "gc --cache /nonexistent/cache", "keygen --id /nonexistent/k.pub",
                          "learn-seccomp --root /nonexistent /nonexistent/x.toml",
                          "sign --key /nonexistent/k.key --out /tmp/nestbox-cli-never.img --squashfs "
                          "/nonexistent/r.sqfs --policy /nonexistent/p.bin --manifest /nonexistent/x.toml"}) {
    CliRun r = run(cmd);
    EXPECT_EQ(r.status, 2) << cmd << ": " << r.out;
    std::string name = std::string(cmd).substr(0, std::string(cmd).find(' '));
    EXPECT_EQ(r.out.rfind("nestbox " + name + ": ", 0), 0u) << cmd << ": " << r.out;
  }
}

TEST(Cli, ShowJsonRoundTripsThroughTheLibrary) {
  CliRun r = run("show --json " + src("examples/untrusted-app.toml"));
  ASSERT_EQ(r.status, 0) << r.out;
  auto back = manifests::from_json(r.out, "stdout");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->name, "weather-app");
  EXPECT_EQ(manifests::to_json(*back), r.out);
}

TEST(Cli, EverySubcommandHasHelp) {
  CliRun top = run("--help");
  EXPECT_EQ(top.status, 0);
  for (const char* sub : {"validate", "show"}) {
    EXPECT_NE(top.out.find(sub), std::string::npos) << sub;
    CliRun r = run(std::string(sub) + " --help");
    EXPECT_EQ(r.status, 0) << sub;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << r.out;
  }
}

// docs/cli.md is the CLI reference: every subcommand in the table has a row.
TEST(Cli, ReferenceDocumentsEverySubcommand) {
  CliRun top = run("--help");
  std::ifstream doc(src("docs/cli.md"));
  std::string text((std::istreambuf_iterator<char>(doc)), std::istreambuf_iterator<char>());
  size_t start = top.out.find("Subcommands:");
  ASSERT_NE(start, std::string::npos) << top.out;
  std::istringstream lines(top.out.substr(start));
  std::string line;
  std::getline(lines, line);
  int documented = 0;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name;
    if (!(words >> name)) continue;
    EXPECT_NE(text.find("`nestbox " + name), std::string::npos) << name << " is missing from docs/cli.md";
    ++documented;
  }
  EXPECT_GE(documented, 10);
}

TEST(Cli, UnknownSubcommandIsBadInput) {
  EXPECT_EQ(run("frobnicate").status, 2);
  EXPECT_EQ(run("").status, 2);
}

}  // namespace
}  // namespace nestbox
