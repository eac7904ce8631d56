#include "composer/closure.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "composer/elf.h"
#include "composer/mapped_file.h"
#include "tests/composer/elf_builder.h"
#include "tests/composer/test_util.h"

namespace nestbox::composer {
namespace {

namespace fs = std::filesystem;
using testing::build_elf;
using testing::ElfSpec;
using testing::TempDir;
using testing::write;
using testing::symlink_at;

ElfSpec lib(std::vector<std::string> needed = {}) {
  ElfSpec s;
  s.needed = std::move(needed);
  return s;
}

// A synthetic x86_64 root exercising each rule: RUNPATH with $ORIGIN,
// ld.so.conf includes, absolute symlinks that must resolve inside the root,
// an incompatible (32-bit) library earlier in the search path, the
// interpreter's directory as a default.
class SyntheticRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    ElfSpec app;
    app.type = ET_EXEC;
    app.interp = "/lib64/ld-linux-x86-64.so.2";
    app.needed = {"libfoo.so.1", "libc.so.6"};
    app.runpath = "$ORIGIN/../lib";
    write(root_ / "opt/app/bin/app", build_elf(app), 0755);
    write(root_ / "opt/app/lib/libfoo.so.1", build_elf(lib({"libbar.so.2"})));
    // libbar: found through an ld.so.conf.d include, as an absolute symlink.
    write(root_ / "etc/ld.so.conf", "# comment\ninclude /etc/ld.so.conf.d/*.conf\n");
    write(root_ / "etc/ld.so.conf.d/b.conf", "/usr/local/lib32\n/opt/bar\n");
    write(root_ / "etc/ld.so.conf.d/a.conf", "/usr/local/lib   # trailing\n");
    ElfSpec bar32 = lib();
    bar32.is64 = false, bar32.machine = EM_386;
    write(root_ / "usr/local/lib32/libbar.so.2", build_elf(bar32));
    write(root_ / "opt/bar/real/libbar.so.2.0", build_elf(lib({"libc.so.6"})));
    symlink_at("/opt/bar/real/libbar.so.2.0", root_ / "opt/bar/libbar.so.2");
    // The interpreter through /lib64 -> usr/lib64 -> absolute link.
    symlink_at("usr/lib64", root_ / "lib64");
    symlink_at("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
               root_ / "usr/lib64/ld-linux-x86-64.so.2");
    write(root_ / "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", build_elf(lib()));
    write(root_ / "usr/lib/x86_64-linux-gnu/libc.so.6",
          build_elf(lib({"ld-linux-x86-64.so.2"})));
    auto r = open_dir_root(root_.path());
    ASSERT_TRUE(r.ok());
    view_ = std::move(*r);
  }

  TempDir root_;
  std::unique_ptr<RootView> view_;
};

TEST_F(SyntheticRoot, LdSoConfIncludesAreSortedAndExpanded) {
  auto dirs = load_ld_so_conf(*view_);
  ASSERT_TRUE(dirs.ok()) << dirs.error().message;
  EXPECT_EQ(*dirs, (std::vector<std::string>{"/usr/local/lib", "/usr/local/lib32", "/opt/bar"}));
}

// Every conf including every conf: the depth limit alone allowed 8^16 parses
// (a hang); each file is read once and the result is as ldconfig's.
TEST(LdSoConf, IncludeFanOutParsesEachFileOnce) {
  TempDir root;
  write(root / "etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
  std::vector<std::string> expected;
  for (int i = 0; i < 8; ++i) {
    write(root / ("etc/ld.so.conf.d/" + std::to_string(i) + ".conf"), "/lib" + std::to_string(i) + "\ninclude *.conf\n");
    expected.push_back("/lib" + std::to_string(i));
  }
  auto view = open_dir_root(root.path());
  ASSERT_TRUE(view.ok());
  auto dirs = load_ld_so_conf(**view);
  ASSERT_TRUE(dirs.ok()) << dirs.error().message;
  EXPECT_EQ(*dirs, expected);
}

// More included files than anyone writes is refused, naming the first too many.
TEST(LdSoConf, TooManyIncludedFilesAreRefused) {
  TempDir root;
  write(root / "etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
  for (int i = 0; i < 300; ++i) {
    std::string n = std::to_string(i);
    write(root / ("etc/ld.so.conf.d/f" + std::string(3 - std::min<size_t>(3, n.size()), '0') + n + ".conf"), "/lib\n");
  }
  auto view = open_dir_root(root.path());
  ASSERT_TRUE(view.ok());
  auto dirs = load_ld_so_conf(**view);
  ASSERT_FALSE(dirs.ok());
  EXPECT_EQ(dirs.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(dirs.error().message,
            "/etc/ld.so.conf.d/f255.conf: ld.so.conf and its includes are more than 256 files; expected fewer");
}

TEST_F(SyntheticRoot, ResolvesEveryRuleInsideTheRoot) {
  auto c = compute_closure(*view_, {"/opt/app/bin/app"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listed_paths, (std::vector<std::string>{
                                 "/opt/app/bin/app",
                                 "/lib64/ld-linux-x86-64.so.2",
                                 "/opt/app/lib/libfoo.so.1",
                                 "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                 "/opt/bar/libbar.so.2",
                             }));
  EXPECT_EQ(c->install_paths, (std::vector<std::string>{
                                  "/lib64",
                                  "/lib64/ld-linux-x86-64.so.2",
                                  "/opt/app/bin/app",
                                  "/opt/app/lib/libfoo.so.1",
                                  "/opt/bar/libbar.so.2",
                                  "/opt/bar/real/libbar.so.2.0",
                                  "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                                  "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                  "/usr/lib64/ld-linux-x86-64.so.2",
                              }));
  std::map<std::string, std::string> via;
  for (const auto& o : c->objects) via[o.path] = o.via;
  EXPECT_EQ(via["/opt/app/lib/libfoo.so.1"], "runpath");
  EXPECT_EQ(via["/opt/bar/libbar.so.2"], "ld.so.conf");
  EXPECT_EQ(via["/usr/lib/x86_64-linux-gnu/libc.so.6"], "interp");
}

TEST_F(SyntheticRoot, MissingLibraryNamesBinaryAndSoname) {
  fs::remove(root_ / "opt/bar/real/libbar.so.2.0");
  auto c = compute_closure(*view_, {"/opt/app/bin/app"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(c.error().message,
            "/opt/app/bin/app: library libbar.so.2 (needed by /opt/app/lib/libfoo.so.1) not "
            "found in the root");
}

TEST_F(SyntheticRoot, SymlinkLoopIsAnError) {
  symlink_at("/loop2", root_ / "loop1");
  symlink_at("/loop1", root_ / "loop2");
  auto c = compute_closure(*view_, {"/loop1"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "too many levels of symlinks resolving /loop1");
}

TEST_F(SyntheticRoot, ScriptsBringTheirInterpreter) {
  write(root_ / "usr/bin/hello", "#!/opt/app/bin/app -x\necho hi\n", 0755);
  auto c = compute_closure(*view_, {"/usr/bin/hello"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listed_paths.front(), "/usr/bin/hello");
  EXPECT_EQ(c->listed_paths.size(), 6u);
}

TEST_F(SyntheticRoot, DollarOriginUsesTheObjectsDirectory) {
  ElfSpec tool;
  tool.interp = "/lib64/ld-linux-x86-64.so.2";
  tool.needed = {"libplug.so"};
  tool.rpath = "$ORIGIN/plugins:${ORIGIN}/../share";
  write(root_ / "srv/x/bin/tool", build_elf(tool), 0755);
  write(root_ / "srv/x/share/libplug.so", build_elf(lib({"libdeep.so"})));
  // RPATH of the executable also applies to its libraries (no RUNPATH anywhere).
  write(root_ / "srv/x/bin/plugins/libdeep.so", build_elf(lib()));
  auto c = compute_closure(*view_, {"/srv/x/bin/tool"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listed_paths, (std::vector<std::string>{"/srv/x/bin/tool",
                                                       "/lib64/ld-linux-x86-64.so.2",
                                                       "/srv/x/share/libplug.so",
                                                       "/srv/x/bin/plugins/libdeep.so"}));
}

// ---- Agreement with lddtree (pax-utils) on real files ---------------------

// Runs lddtree over many files at once (tree mode, one header per file) and
// returns, per file, the set of paths it lists, with the root prefix removed.
std::map<std::string, std::set<std::string>> run_lddtree(const std::string& root,
                                                         const std::vector<std::string>& files) {
  std::map<std::string, std::set<std::string>> out;
  for (size_t i = 0; i < files.size(); i += 400) {
    std::string cmd = "/usr/bin/python3 /usr/bin/lddtree --root " + root;
    for (size_t k = i; k < std::min(files.size(), i + 400); ++k) cmd += " '" + files[k] + "'";
    cmd += " 2>/dev/null";
    std::istringstream in(testing::run(cmd));
    std::string line, current;
    std::string prefix = root == "/" ? "" : root;
    auto strip = [&](std::string p) {
      if (!prefix.empty() && p.rfind(prefix, 0) == 0) p = p.substr(prefix.size());
      return p;
    };
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      if (line[0] != ' ') {
        size_t sp = line.find(" (interpreter => ");
        current = strip(line.substr(0, sp));
        out[current].insert(current);
        if (sp != std::string::npos) {
          std::string interp = line.substr(sp + 17);
          interp.pop_back();
          if (interp != "None") out[current].insert(strip(interp));
        }
        continue;
      }
      size_t arrow = line.find(" => ");
      if (arrow == std::string::npos) continue;
      std::string target = line.substr(arrow + 4);
      if (target.find("!!!") != std::string::npos) continue;
      out[current].insert(target == "None" ? "MISSING:" + line.substr(0, arrow) : strip(target));
    }
  }
  return out;
}

bool is_dynamic_elf(const std::string& path) {
  auto m = MappedFile::open(path);
  if (!m.ok() || !is_elf(m->bytes())) return false;
  auto e = parse_elf(m->bytes(), path);
  return e.ok() && e->dynamic;
}

bool uses_origin(const std::string& path) {
  auto m = MappedFile::open(path);
  if (!m.ok()) return false;
  auto e = parse_elf(m->bytes(), path);
  if (!e.ok()) return false;
  auto has = [](const std::optional<std::string>& s) {
    return s && s->find("ORIGIN") != std::string::npos;
  };
  return has(e->rpath) || has(e->runpath);
}

// Compares the closure of every dynamic ELF under `dirs` (inside `root`)
// with lddtree's, up to `limit` files per directory.
void expect_agreement(const std::string& root, const std::vector<std::string>& dirs,
                      size_t limit, size_t* compared) {
  std::vector<std::string> files;
  std::string prefix = root == "/" ? "" : root;
  for (const auto& d : dirs) {
    std::vector<std::string> here;
    if (!fs::is_directory(prefix + d)) continue;
    for (const auto& e : fs::directory_iterator(prefix + d)) {
      if (!e.is_regular_file() || e.is_symlink()) continue;
      if (!is_dynamic_elf(e.path())) continue;
      here.push_back(d + "/" + e.path().filename().string());
    }
    std::sort(here.begin(), here.end());
    if (here.size() > limit) here.resize(limit);
    files.insert(files.end(), here.begin(), here.end());
  }
  auto expected = run_lddtree(root, files);
  auto view = open_dir_root(root);
  ASSERT_TRUE(view.ok());
  for (const auto& f : files) {
    auto it = expected.find(f);
    if (it == expected.end()) continue;  // lddtree itself could not parse it
    bool lddtree_missing = std::any_of(it->second.begin(), it->second.end(), [](auto& p) {
      return p.rfind("MISSING:", 0) == 0;
    });
    auto c = compute_closure(**view, {f});
    if (lddtree_missing && root != "/" && uses_origin(prefix + f)) {
      // lddtree with --root expands $ORIGIN to the host path and then prefixes
      // the root again (pax-utils 1.3.7), so it misses $ORIGIN libraries. We
      // must agree on everything else and find exactly those in the object's
      // own directory.
      ASSERT_TRUE(c.ok()) << f << ": " << c.error().message;
      std::set<std::string> ours(c->listed_paths.begin(), c->listed_paths.end());
      for (const auto& p : it->second) {
        if (p.rfind("MISSING:", 0) != 0) {
          EXPECT_TRUE(ours.count(p)) << f << ": lddtree lists " << p;
          continue;
        }
        std::string name = p.substr(p.find_first_not_of(' ', 8));
        auto o = std::find_if(c->objects.begin(), c->objects.end(),
                              [&](const ClosureObject& x) { return x.name == name; });
        ASSERT_NE(o, c->objects.end()) << f << ": " << name;
        EXPECT_EQ(o->path, f.substr(0, f.rfind('/')) + "/" + name) << f;
        EXPECT_EQ(o->via, "runpath") << f;
      }
      ++*compared;
      continue;
    }
    if (lddtree_missing) {
      EXPECT_FALSE(c.ok()) << f << ": lddtree reports a missing library, we resolved it";
      continue;
    }
    ASSERT_TRUE(c.ok()) << f << ": " << c.error().message;
    std::set<std::string> ours(c->listed_paths.begin(), c->listed_paths.end());
    EXPECT_EQ(ours, it->second) << "closure of " << f << " differs from lddtree";
    ++*compared;
  }
}

TEST(ClosureAgreement, HostDebianRootMatchesLddtree) {
  if (access("/usr/bin/lddtree", X_OK) != 0) GTEST_SKIP() << "lddtree (pax-utils) not installed";
  size_t compared = 0;
  expect_agreement("/", {"/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu"}, 250, &compared);
  EXPECT_GT(compared, 300u);
}

TEST(ClosureAgreement, ForeignArchitectureRootsMatchLddtree) {
  if (access("/usr/bin/lddtree", X_OK) != 0) GTEST_SKIP() << "lddtree (pax-utils) not installed";
  std::string why, cache = testing::foreign_roots(&why);
  if (cache.empty()) GTEST_SKIP() << why;
  std::map<std::string, uint16_t> machines = {
      {"armhf", EM_ARM}, {"arm64", EM_AARCH64}, {"mipsel", EM_MIPS}};
  for (const auto& [arch, machine] : machines) {
    std::string root = cache + "/" + arch + "/root";
    auto m = MappedFile::open(root + "/bin/busybox");
    ASSERT_TRUE(m.ok()) << arch;
    auto elf = parse_elf(m->bytes(), "busybox");
    ASSERT_TRUE(elf.ok());
    EXPECT_EQ(elf->machine, machine) << arch;
    auto view = open_dir_root(root);
    ASSERT_TRUE(view.ok());
    auto c = compute_closure(**view, {"/bin/busybox"});
    ASSERT_TRUE(c.ok()) << arch << ": " << c.error().message;
    EXPECT_GE(c->listed_paths.size(), 3u) << arch;  // busybox, interpreter, libc
    size_t compared = 0;
    std::vector<std::string> dirs = {"/bin", "/sbin", "/usr/bin", "/usr/sbin"};
    for (const char* base : {"/lib", "/usr/lib"}) {
      dirs.push_back(base);
      for (const auto& e : fs::recursive_directory_iterator(root + base))
        if (e.is_directory() && !e.is_symlink())
          dirs.push_back(e.path().string().substr(root.size()));
    }
    expect_agreement(root, dirs, 400, &compared);
    EXPECT_GE(compared, 100u) << arch;  // libc6's libraries and gconv modules, busybox
  }
}

}  // namespace
}  // namespace nestbox::composer
