// --json on the commands that report: one JSON document on stdout that names
// what was made, with the same figures as the text form.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli_run.h"

namespace nestbox {
namespace {

using testing_support::CliRun;

CliRun nestbox(const std::string& args) { return testing_support::run_cli(args, testing_support::CliStreams::kStdout); }

std::string scratch(const char* name) {
  std::string dir = ::testing::TempDir() + "/" + name;
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  return dir;
}

TEST(Json, KeygenNamesTheKeyAndItsFiles) {
  std::string dir = scratch("keygen-json");
  CliRun r = nestbox("keygen --json -t ecdsa-p256 -o " + dir + "/k");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["type"], "ecdsa-p256");
  EXPECT_EQ(j["private_key"], dir + "/k.key");
  EXPECT_EQ(j["public_key"], dir + "/k.pub");
  ASSERT_EQ(j["key_id"].get<std::string>().size(), 64u);
  // --id of the written key gives the same id.
  CliRun id = nestbox("keygen --json --id " + dir + "/k.pub");
  ASSERT_EQ(id.status, 0) << id.out;
  EXPECT_EQ(nlohmann::json::parse(id.out)["key_id"], j["key_id"]);
  CliRun text = nestbox("keygen --id " + dir + "/k.pub");
  EXPECT_EQ(text.out, j["key_id"].get<std::string>() + "\n");
}

TEST(Json, SquashReportsEachImage) {
  std::string dir = scratch("squash-json");
  ASSERT_EQ(std::system(("mkdir -p " + dir + "/a " + dir + "/b && head -c 300000 /dev/urandom > " + dir +
                         "/a/data && cp " + dir + "/a/data " + dir + "/b/data && echo b > " + dir + "/b/own").c_str()),
            0);
  CliRun r = nestbox("squash --json --comp gzip " + dir + "/a " + dir + "/a.sqfs " + dir + "/b " + dir + "/b.sqfs");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["images"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    std::string image = j["images"][i]["image"];
    struct stat st{};
    ASSERT_EQ(stat(image.c_str(), &st), 0) << image;
    EXPECT_EQ(j["images"][i]["bytes"], static_cast<uint64_t>(st.st_size));
  }
  EXPECT_EQ(j["images"][0]["image"], dir + "/a.sqfs");
  EXPECT_EQ(j["images"][1]["inodes"], 3);
  // b's copy of a's data was compressed once: its blocks came from the shared store.
  EXPECT_GT(j["images"][1]["blocks_from_cache"].get<uint64_t>(), 0u) << r.out;
}

// -q: compose and sign print nothing on success, and still write their outputs
// (the text form, without -q, names each output).
TEST(Quiet, ComposeAndSignPrintNothingOnSuccess) {
  std::string dir = scratch("quiet");
  ASSERT_EQ(std::system(("mkdir -p " + dir + "/staging/bin && echo x > " + dir + "/staging/bin/tool && chmod 755 " +
                         dir + "/staging/bin/tool")
                            .c_str()),
            0);
  std::ofstream(dir + "/a.toml") << "name = \"a\"\nversion = 1\n[process]\ncommand = [\"/bin/tool\"]\n"
                                    "[rootfs]\nstrategy = \"squashfs\"\n[[rootfs.source]]\npath = \"staging\"\n";
  ASSERT_EQ(nestbox("keygen -t ecdsa-p256 -o " + dir + "/k").status, 0);
  const std::string compose = "compose --cache " + dir + "/cache --out " + dir + "/out " + dir + "/a.toml";
  const std::string sign = "sign -k " + dir + "/k.key --composed " + dir + "/out -o " + dir + "/img " + dir + "/a.toml";
  CliRun loud = nestbox(compose);
  ASSERT_EQ(loud.status, 0) << loud.out;
  EXPECT_NE(loud.out.find("a (squashfs): "), std::string::npos) << loud.out;
  CliRun loud_sign = nestbox(sign);
  ASSERT_EQ(loud_sign.status, 0) << loud_sign.out;
  EXPECT_NE(loud_sign.out.find(dir + "/img/a.img: "), std::string::npos) << loud_sign.out;

  ASSERT_EQ(std::system(("rm -rf " + dir + "/out " + dir + "/img").c_str()), 0);
  CliRun quiet = nestbox(compose + " -q");
  EXPECT_EQ(quiet.status, 0);
  EXPECT_EQ(quiet.out, "");
  CliRun quiet_sign = nestbox(sign + " --quiet");
  EXPECT_EQ(quiet_sign.status, 0);
  EXPECT_EQ(quiet_sign.out, "");
  struct stat st{};
  EXPECT_EQ(::stat((dir + "/out/a.sqfs").c_str(), &st), 0);
  EXPECT_EQ(::stat((dir + "/img/a.img").c_str(), &st), 0);
}

}  // namespace
}  // namespace nestbox
