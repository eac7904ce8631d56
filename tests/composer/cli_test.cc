// The composer's CLI front ends, run as a user would: exit statuses, output
// formats, and agreement of `nestbox closure` with `lddtree -l`.
#include <gtest/gtest.h>
#include <unistd.h>

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

// Never abort on output: a staging file name need not be UTF-8, and it
// reaches compose --json (here in the note that its setuid bit was removed).
// nlohmann's dump() throws on it unless the writer replaces the bytes: the
// report is whole, valid JSON, with U+FFFD in place of the byte.
TEST(Cli, ComposeJsonWithANonUtf8FileName) {
  TempDir d;
  write(d / "staging/bin/tool", "tool", 0755);
  write(d / "staging/bin/su\xff", "su", 04755);
  write(d / "one.toml",
        "schema = 1\nname = \"one\"\nversion = 1\n[process]\ncommand = [\"/bin/tool\"]\n[rootfs]\n"
        "strategy = \"tree\"\ninclude = [\"/bin/**\"]\n[[rootfs.source]]\npath = \"staging\"\n");
  int st = 0;
  std::string json = run(kNestbox + " compose --json --out " + d / "out" + " " + d / "one.toml 2>&1", &st);
  ASSERT_EQ(st, 0) << json;
  EXPECT_EQ(json.find("terminate"), std::string::npos) << json;
  EXPECT_NE(json.find("/staging: entry '/bin/su\xEF\xBF\xBD': setuid/setgid bits removed\""), std::string::npos)
      << json;
  EXPECT_EQ(json.find("\xff"), std::string::npos) << json;
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(json.substr(json.size() - 2), "}\n") << json;
}

// compose -v explains each decision on stderr: why each path was taken (which
// include glob, which ELF closure step, the manifest's own entries, parents)
// or left out (which exclude glob), and where each image file's blocks came
// from: compressed in the first run, the cache in the second.
TEST(Cli, ComposeVerboseExplainsEachDecision) {
  TempDir d;
  testing::ElfSpec app;
  app.interp = "/lib/ld.so";
  app.needed = {"libx.so.1"};
  write(d / "staging/lib/ld.so", testing::build_elf({}), 0755);
  testing::ElfSpec lib;
  lib.soname = "libx.so.1";
  write(d / "staging/lib/libx.so.1", testing::build_elf(lib), 0755);
  write(d / "staging/bin/app", testing::build_elf(app), 0755);
  write(d / "staging/bin/other", "other", 0755);
  write(d / "staging/etc/big", std::string(300 * 1024, 'b'));
  write(d / "staging/etc/drop", "drop");
  write(d / "v.toml",
        "schema = 1\nname = \"v\"\nversion = 1\n[process]\ncommand = [\"/bin/app\"]\n[rootfs]\n"
        "strategy = \"squashfs\"\ninclude = [\"/etc/*\"]\nexclude = [\"/etc/drop\"]\n"
        "binaries = [\"/bin/app\"]\n[[rootfs.source]]\npath = \"staging\"\n");
  std::string cmd = kNestbox + " compose -v --cache " + d / "cache" + " --out " + d / "out" + " " + d / "v.toml";
  int st = 0;
  std::string first = run(cmd + " 2>&1 >/dev/null", &st);
  ASSERT_EQ(st, 0) << first;
  for (const char* line : {
           "v: /bin/app: taken: listed in rootfs.binaries\n",
           "v: /lib/ld.so: taken: ELF closure: the interpreter of /bin/app\n",
           "v: /lib/libx.so.1: taken: ELF closure: libx.so.1 needed by /bin/app (found in the interpreter's "
           "directory)\n",
           "v: /etc/big: taken: matches rootfs.include \"/etc/*\"\n",
           "v: /etc/drop: left out: rootfs.exclude \"/etc/drop\"\n",
           "v: /lib: taken: a parent directory of what was taken\n",
           "v: /proc: taken: made by the manifest: its [[rootfs.dir]], .file, .symlink, .device, or a mount "
           "point its policy needs\n",
           "v: /etc/big: 2 blocks compressed, tail in a fragment block\n"})
    EXPECT_NE(first.find(line), std::string::npos) << line << "in:\n" << first;
  EXPECT_EQ(first.find("/bin/other"), std::string::npos) << first;  // neither taken nor refused: not named
  std::string second = run(cmd + " 2>&1 >/dev/null", &st);
  ASSERT_EQ(st, 0) << second;
  EXPECT_NE(second.find("v: /etc/big: 2 blocks from the cache, tail in a fragment block\n"), std::string::npos)
      << second;
  // Without -v: nothing on stderr; not on a terminal: no progress line.
  std::string plain = run(kNestbox + " compose --out " + d / "out2" + " " + d / "v.toml 2>&1 >/dev/null", &st);
  EXPECT_EQ(st, 0);
  EXPECT_EQ(plain, "");
}

// On a terminal (script(1) gives the command one), compose draws each
// image's progress on stderr: entries and bytes done, with a bar; -q draws
// nothing.
TEST(Cli, ComposeProgressOnATerminal) {
  if (access("/usr/bin/script", X_OK) != 0) GTEST_SKIP() << "script(1) (util-linux) not installed";
  TempDir d;
  write(d / "staging/bin/tool", std::string(200 * 1024, 't'), 0755);
  write(d / "p.toml",
        "schema = 1\nname = \"p\"\nversion = 1\n[process]\ncommand = [\"/bin/tool\"]\n[rootfs]\n"
        "strategy = \"squashfs\"\n[[rootfs.source]]\npath = \"staging\"\n");
  auto on_tty = [&](const std::string& args) {
    return run("script -qec '" + kNestbox + " compose " + args + " --out " + d / "out" + " " + d / "p.toml" +
               " >/dev/null' /dev/null");
  };
  std::string shown = on_tty("");
  EXPECT_NE(shown.find("p: [####################]  6/6 entries, 0.2/0.2 MiB\r\n"), std::string::npos) << shown;
  EXPECT_NE(shown.find("\r\033[Kp: ["), std::string::npos) << shown;
  EXPECT_EQ(on_tty("-q"), "");
}

// sign draws each image's progress on a terminal (bytes only: one file
// hashed, then its verity tree), draws nothing with -q or off a terminal, and
// with -v says on stderr what went into each image.
TEST(Cli, SignProgressOnATerminalAndVerbose) {
  if (access("/usr/bin/script", X_OK) != 0) GTEST_SKIP() << "script(1) (util-linux) not installed";
  TempDir d;
  write(d / "staging/bin/tool", std::string(200 * 1024, 't'), 0755);
  write(d / "p.toml",
        "schema = 1\nname = \"p\"\nversion = 3\nsecurity_version = 2\n[process]\ncommand = [\"/bin/tool\"]\n"
        "[rootfs]\nstrategy = \"squashfs\"\n[[rootfs.source]]\npath = \"staging\"\n");
  int st = 0;
  run(kNestbox + " compose -q --out " + d / "out" + " " + d / "p.toml", &st);
  ASSERT_EQ(st, 0);
  std::string id = run(kNestbox + " keygen -o " + d / "k", &st);
  ASSERT_EQ(st, 0) << id;
  while (!id.empty() && id.back() == '\n') id.pop_back();
  std::string sign = kNestbox + " sign --composed " + d / "out" + " -k " + d / "k.key" + " -o " + d / "img " +
                     d / "p.toml";
  auto on_tty = [&](const std::string& args) { return run("script -qec '" + sign + args + " >/dev/null' /dev/null"); };
  std::string shown = on_tty("");
  EXPECT_NE(shown.find("\r\033[Kp: [####################]  "), std::string::npos) << shown;
  EXPECT_NE(shown.find(" MiB\r\n"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("entries"), std::string::npos) << shown;
  EXPECT_EQ(on_tty(" -q"), "");
  EXPECT_EQ(run(sign + " 2>&1 >/dev/null", &st), "");  // not a terminal: nothing drawn
  EXPECT_EQ(st, 0);
  std::string told = run(sign + " -v 2>&1 >/dev/null", &st);
  EXPECT_EQ(st, 0);
  EXPECT_NE(told.find(d / "img/p.img" + ": signed " + d / "out/p.sqfs" + ", version 3 (security version 2); keys "),
            std::string::npos)
      << told;
  EXPECT_NE(told.find("; dm-verity tree appended\n"), std::string::npos) << told;
}

// `nestbox squash DIR DIR/out.img` packed the previous run's out.img into
// the next one (two runs over the same directory differed, each image
// holding the last). An image, --overlay base or --cache inside a DIR is
// refused before anything is written.
TEST(Cli, SquashRefusesOutputsInsideTheDirectoryItPacks) {
  TempDir d;
  write(d / "in/f", "hi\n");
  fs::create_directories(d / "link");
  ASSERT_EQ(symlink((d / "in").c_str(), (d / "link/in").c_str()), 0);
  for (const std::string& args : {d / "in " + d / "in/out.img", d / "in " + d / "link/in/sub/out.img",
                                  d / "in " + d / "ok.img --overlay " + d / "in/base.img",
                                  d / "in " + d / "ok.img --cache " + d / "in/cache"}) {
    int st = 0;
    std::string out = run("SOURCE_DATE_EPOCH=1 " + kNestbox + " squash -q --comp gzip " + args + " 2>&1", &st);
    EXPECT_EQ(st, 2) << args << ": " << out;
    EXPECT_NE(out.find(": lies inside " + d / "in" + ", which is packed"), std::string::npos) << out;
  }
  std::set<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(d / "in")) names.insert(e.path().filename());
  EXPECT_EQ(names, (std::set<std::string>{"f"}));
  EXPECT_FALSE(fs::exists(d / "ok.img"));
  // Beside it: the same image twice.
  std::string first;
  for (int i = 0; i < 2; ++i) {
    int st = 0;
    std::string out = run("SOURCE_DATE_EPOCH=1 " + kNestbox + " squash -q --comp gzip " + d / "in " + d / "ok.img 2>&1", &st);
    ASSERT_EQ(st, 0) << out;
    if (i == 0) first = testing::slurp(d / "ok.img");
    else EXPECT_TRUE(first == testing::slurp(d / "ok.img"));
  }
}

}  // namespace
}  // namespace nestbox::composer
