#include "composer/compose.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "composer/select.h"
#include "composer/source_tree.h"
#include "tests/composer/archive_builder.h"
#include "tests/composer/test_util.h"

namespace nestbox::composer {
namespace {

namespace fs = std::filesystem;
using manifests::Manifest;
using manifests::RootfsStrategy;
using testing::TempDir;
using testing::write;

// A listing of everything that defines a tree on disk: type, mode, owner,
// mtime, size, content, link target, device numbers, xattrs.
std::string describe(const std::string& dir) {
  std::vector<std::string> lines;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    std::string p = it->path().string();
    struct stat st;
    lstat(p.c_str(), &st);
    std::ostringstream l;
    l << p.substr(dir.size()) << " " << std::oct << st.st_mode << std::dec << " " << st.st_uid
      << ":" << st.st_gid << " " << st.st_mtime;
    if (S_ISREG(st.st_mode)) l << " " << st.st_size << " " << std::hash<std::string>()(testing::slurp(p));
    if (S_ISLNK(st.st_mode)) l << " -> " << fs::read_symlink(p).string();
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) l << " " << major(st.st_rdev) << "," << minor(st.st_rdev);
    char names[1024];
    ssize_t n = llistxattr(p.c_str(), names, sizeof names);
    for (ssize_t i = 0; i > -1 && i < n; i += strlen(names + i) + 1) l << " x:" << names + i;
    lines.push_back(l.str());
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

ino_t inode(const std::string& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

class Compose : public ::testing::Test {
 protected:
  void SetUp() override {
    staging_ = top_ / "staging";
    write(staging_ + "/usr/bin/app", "application bytes", 0755);
    write(staging_ + "/usr/lib/libshared.so", std::string(10000, 's'), 0644);
    write(staging_ + "/etc/config", "cfg", 0600);
    write(staging_ + "/usr/share/doc/readme", "docs", 0644);
    write(staging_ + "/usr/bin/su", "su", 04755);
    testing::symlink_at("app", staging_ + "/usr/bin/app-link");
    ASSERT_EQ(lsetxattr((staging_ + "/usr/bin/app").c_str(), "user.tag", "x", 1, 0), 0);
    out_ = top_ / "out";
  }

  Manifest manifest(const std::string& name, RootfsStrategy s) {
    Manifest m;
    m.name = name;
    m.file = name + ".toml";
    m.rootfs.strategy = s;
    m.rootfs.sources.push_back({.path = staging_});
    return m;
  }

  Result<ComposeReport> run(const std::vector<Manifest>& ms, std::optional<int64_t> sde = {},
                            std::function<void(uint64_t)> progress = {}) {
    auto writers = default_writers();
    std::vector<OutputWriter*> ptrs;
    for (auto& w : writers) ptrs.push_back(w.get());
    ComposeOptions o;
    o.out_dir = out_;
    o.source_date_epoch = sde;
    o.threads = 2;
    o.progress = std::move(progress);
    o.hardlink_dir = hardlink_dir_;
    return compose(ms, o, ptrs);
  }

  TempDir top_;
  std::string staging_, out_;
  std::string hardlink_dir_;  // "": the default, /usr/lib/nestbox/rootfs
};

TEST_F(Compose, TreesShareIdenticalFilesAndCopyWhenOwnersDiffer) {
  Manifest a = manifest("a", RootfsStrategy::kTree);
  a.rootfs.exclude = {"/usr/share/**"};
  a.rootfs.devices.push_back({.path = "/dev/null", .major = 1, .minor = 3, .mode = 0666});
  Manifest b = manifest("b", RootfsStrategy::kTree);
  b.rootfs.include = {"/usr/lib/*.so", "/usr/bin/app*"};
  Manifest c = manifest("c", RootfsStrategy::kTree);
  c.users.user_namespace = true;
  c.users.shift_ownership = true;
  c.users.uid_map = {{0, 100000, 65536}};
  c.users.gid_map = {{0, 100000, 65536}};
  auto r = run({a, b, c});
  ASSERT_TRUE(r.ok()) << r.error().message;
  // a: everything but /usr/share, plus the device; setuid stripped and noted.
  EXPECT_TRUE(fs::exists(out_ + "/a/usr/bin/app"));
  EXPECT_FALSE(fs::exists(out_ + "/a/usr/share"));
  struct stat st;
  ASSERT_EQ(lstat((out_ + "/a/dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  ASSERT_EQ(lstat((out_ + "/a/usr/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(lstat((out_ + "/a/etc/config").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  char v[8];
  EXPECT_EQ(lgetxattr((out_ + "/a/usr/bin/app").c_str(), "user.tag", v, sizeof v), 1);
  EXPECT_EQ(fs::read_symlink(out_ + "/a/usr/bin/app-link"), "app");
  // b: only its globs.
  EXPECT_FALSE(fs::exists(out_ + "/b/etc/config"));
  EXPECT_TRUE(fs::exists(out_ + "/b/usr/bin/app-link"));
  // Identical content and metadata: one inode for a and b.
  EXPECT_EQ(inode(out_ + "/a/usr/lib/libshared.so"), inode(out_ + "/b/usr/lib/libshared.so"));
  // c is shifted to uid 100000: same bytes, different owner -> a copy, reported.
  ASSERT_EQ(lstat((out_ + "/c/usr/lib/libshared.so").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u);
  EXPECT_NE(st.st_ino, inode(out_ + "/a/usr/lib/libshared.so"));
  bool noted = false;
  for (const auto& n : r->notes)
    if (n == "copied c:/usr/lib/libshared.so: same content as a:/usr/lib/libshared.so but owner "
             "differs")
      noted = true;
  EXPECT_TRUE(noted);
  bool stripped = false;
  for (const auto& n : r->notes)
    if (n == "a: " + staging_ + ": entry '/usr/bin/su': setuid/setgid bits removed") stripped = true;
  EXPECT_TRUE(stripped);
  EXPECT_EQ(r->outputs.size(), 3u);
  // No temporary or work directories left behind.
  for (const auto& e : fs::directory_iterator(out_))
    EXPECT_NE(e.path().filename().string().rfind(".nestbox-", 0), 0u) << e.path();
}

TEST_F(Compose, ReproducibleWithSourceDateEpoch) {
  Manifest a = manifest("a", RootfsStrategy::kTree);
  ASSERT_TRUE(run({a}, 1000000).ok());
  std::string first = describe(out_ + "/a");
  EXPECT_NE(first.find(" 1000000 "), std::string::npos);
  // Touch the sources (newer mtimes) and write again elsewhere: identical.
  fs::last_write_time(staging_ + "/etc/config", fs::file_time_type::clock::now());
  out_ = top_ / "out2";
  ASSERT_TRUE(run({a}, 1000000).ok());
  EXPECT_EQ(describe(out_ + "/a"), first);
}

// Every mount the policy makes has its directory in the image (a missing one
// failed only on the device), at SOURCE_DATE_EPOCH like every entry the
// manifest made; a target beneath a symlink (OpenWrt's /var -> /tmp) is left
// to the launcher, never created through the link.
TEST_F(Compose, MountPointsAreMadeAndStampedWithSourceDateEpoch) {
  testing::symlink_at("tmp", staging_ + "/var");
  write(staging_ + "/srv/keep", "k", 0644);
  Manifest a = manifest("a", RootfsStrategy::kTree);
  a.mounts.tmpfs.push_back({.target = "/run/app"});
  a.mounts.tmpfs.push_back({.target = "/var/run"});
  manifests::StorageMount data;
  data.target = "/data/db";
  data.source = "/srv/nas";
  a.mounts.storage.push_back(data);
  a.rootfs.dirs.push_back({.path = "/extra/dir", .mode = 0700});
  ASSERT_TRUE(run({a}, 1000000).ok());
  std::string listing = describe(out_ + "/a");
  for (const char* line : {"/proc 40755 0:0 1000000", "/dev 40755 0:0 1000000", "/sys 40755 0:0 1000000",
                           "/run 40755 0:0 1000000", "/run/app 40755 0:0 1000000", "/data/db 40755 0:0 1000000",
                           "/extra 40755 0:0 1000000", "/extra/dir 40700 0:0 1000000", "/var 120777 0:0"})
    EXPECT_NE(listing.find(std::string(line)), std::string::npos) << line << "\n" << listing;
  EXPECT_EQ(listing.find("/var/run"), std::string::npos) << listing;  // not through the symlink
  EXPECT_EQ(listing.find("/tmp"), std::string::npos) << listing;
  // A target the tree already has keeps what the source gave it.
  EXPECT_NE(listing.find("/srv 40755"), std::string::npos) << listing;
}

TEST_F(Compose, HostHardlinkLinksIntoTheStagingRootfs) {
  Manifest d = manifest("dns", RootfsStrategy::kHostHardlink);
  d.rootfs.include = {"/usr/**", "/etc/config"};
  d.rootfs.allow_setuid = true;
  d.rootfs.files.push_back({.path = "/etc/extra", .content = "extra"});
  auto r = run({d});
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::string tree = staging_ + "/usr/lib/nestbox/rootfs/dns";
  ASSERT_EQ(r->outputs.at(0).path, tree);
  EXPECT_EQ(inode(tree + "/usr/bin/app"), inode(staging_ + "/usr/bin/app"));
  EXPECT_EQ(inode(tree + "/usr/bin/su"), inode(staging_ + "/usr/bin/su"));
  EXPECT_EQ(testing::slurp(tree + "/etc/extra"), "extra");
  EXPECT_EQ(r->outputs[0].copied, 1u);  // /etc/extra is not a host file
  bool noted = false;
  for (const auto& n : r->notes)
    if (n == "copied dns:/etc/extra: not from the host staging rootfs") noted = true;
  EXPECT_TRUE(noted);
  // A second run does not ingest its own previous output.
  auto again = run({d});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(fs::exists(tree + "/usr/lib/nestbox/rootfs"));
  // Only the (now existing, empty) parent /usr/lib/nestbox is new.
  EXPECT_EQ(again->outputs[0].entries, r->outputs[0].entries + 1);
}

// An OpenWrt-shaped staging rootfs: base-files makes var -> /tmp (absolute),
// lib -> usr/lib. Compose resolves every path inside the root: the tree lands
// at the persistent default, and even the old /var/lib/nestbox/rootfs place
// resolves to STAGING/tmp/..., never the build host's /tmp.
TEST_F(Compose, HostHardlinkStaysInsideAnOpenWrtStagingRoot) {
  std::string owrt = top_ / "owrt";
  write(owrt + "/usr/lib/libc.so", "libc", 0755);
  write(owrt + "/usr/bin/app", "app", 0755);
  fs::create_directories(owrt + "/tmp");
  testing::symlink_at("/tmp", owrt + "/var");
  testing::symlink_at("usr/lib", owrt + "/lib");
  std::string name = "nbhl" + std::to_string(getpid());
  std::string host = "/tmp/lib/nestbox/rootfs/" + name;
  ASSERT_FALSE(fs::exists(host));
  Manifest m = manifest(name, RootfsStrategy::kHostHardlink);
  m.rootfs.sources = {{.path = owrt}};
  m.rootfs.include = {"/usr/**"};
  auto r = run({m});
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::string tree = owrt + "/usr/lib/nestbox/rootfs/" + name;
  EXPECT_EQ(r->outputs.at(0).path, tree);
  EXPECT_EQ(inode(tree + "/usr/bin/app"), inode(owrt + "/usr/bin/app"));
  EXPECT_FALSE(fs::exists(host));

  hardlink_dir_ = "/var/lib/nestbox/rootfs";  // through var -> /tmp
  r = run({m});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->outputs.at(0).path, owrt + "/tmp/lib/nestbox/rootfs/" + name);
  EXPECT_EQ(inode(owrt + "/tmp/lib/nestbox/rootfs/" + name + "/usr/lib/libc.so"),
            inode(owrt + "/usr/lib/libc.so"));
  EXPECT_FALSE(fs::exists(host));
  EXPECT_FALSE(fs::exists("/tmp/lib/nestbox/rootfs/.nestbox-tmp-" + name + "-" + std::to_string(getpid())));

  hardlink_dir_ = "/lib/nestbox/trees";  // through the relative lib -> usr/lib
  r = run({m});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->outputs.at(0).path, owrt + "/usr/lib/nestbox/trees/" + name);

  for (const char* bad : {"relative/dir", "/", "/a/../b", "/a//b", "/a/./b", "/a/"}) {
    hardlink_dir_ = bad;
    auto refused = run({m});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.error().message.find("--hardlink-dir '" + std::string(bad) + "'"),
              std::string::npos) << refused.error().message;
  }
}

// Hostile staging: usr/lib/nestbox is an absolute symlink to a directory of
// the build host. Resolved inside the root (as the target resolves it), so
// the tree goes to STAGING/<that path>; the host directory stays empty.
TEST_F(Compose, HostHardlinkSymlinkToAHostDirectoryResolvesInsideTheRoot) {
  std::string outside = top_ / "host-dir";
  fs::create_directories(outside);
  fs::create_directories(staging_ + "/usr/lib");
  testing::symlink_at(outside, staging_ + "/usr/lib/nestbox");
  Manifest d = manifest("dns", RootfsStrategy::kHostHardlink);
  d.rootfs.include = {"/usr/bin/app"};
  // Its target does not exist inside the root: a dangling symlink there,
  // refused naming it; nothing is written to the host directory.
  auto r = run({d});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            staging_ + "/usr/lib/nestbox: a symlink to a missing directory (or a race): create its "
                       "target in the staging rootfs or choose another --hardlink-dir");
  EXPECT_TRUE(fs::is_empty(outside));
  // Once the target exists inside the root, the tree goes there.
  fs::create_directories(staging_ + outside);
  r = run({d});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(fs::is_empty(outside));
  std::string tree = staging_ + outside + "/rootfs/dns";
  EXPECT_EQ(r->outputs.at(0).path, tree);
  EXPECT_EQ(inode(tree + "/usr/bin/app"), inode(staging_ + "/usr/bin/app"));

  // A dangling symlink on the way is refused, naming it, not followed.
  fs::remove(staging_ + "/usr/lib/nestbox");
  testing::symlink_at("/missing/dir", staging_ + "/usr/lib/nestbox");
  r = run({d});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            staging_ + "/usr/lib/nestbox: a symlink to a missing directory (or a race): create its "
                       "target in the staging rootfs or choose another --hardlink-dir");
  EXPECT_FALSE(fs::exists("/missing"));
}

// A link source reached through a symlink (swapped into the staging rootfs
// after it was read) is never linked: the hardlink cannot pull in the build
// host's file the symlink points at.
TEST_F(Compose, HostHardlinkNeverLinksAHostFileThroughASymlink) {
  std::string outside = top_ / "host-share";
  write(outside + "/doc/readme", "docs", 0644);  // same bytes and metadata
  Manifest d = manifest("dns", RootfsStrategy::kHostHardlink);
  d.rootfs.include = {"/usr/share/**", "/usr/bin/app"};
  bool swapped = false;
  auto r = run({d}, {}, [&](uint64_t) {
    if (swapped) return;
    swapped = true;
    fs::rename(staging_ + "/usr/share", top_ / "moved-share");
    testing::symlink_at(outside, staging_ + "/usr/share");
  });
  // Neither linked nor copied: the path names another inode than the walk saw.
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(swapped);
  EXPECT_EQ(r.error().message, staging_ + "/usr/share/doc/readme (for /usr/share/doc/readme): not the file its "
                                          "source held when it was read (a path swapped since): refused");
  struct stat st;
  ASSERT_EQ(stat((outside + "/doc/readme").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);  // never linked into the tree
  EXPECT_FALSE(fs::exists(out_ + "/dns"));
}

TEST_F(Compose, InterruptedRunLeavesPreviousOutputIntact) {
  Manifest a = manifest("a", RootfsStrategy::kTree);
  ASSERT_TRUE(run({a}, 1).ok());
  std::string before = describe(out_ + "/a");
  write(staging_ + "/usr/bin/new", "new file");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child dies abruptly in the middle of writing, as if killed.
    auto r = run({a}, 1, [](uint64_t n) {
      if (n == 5) _exit(42);
    });
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 42);
  EXPECT_EQ(describe(out_ + "/a"), before);
  bool leftovers = false;
  for (const auto& e : fs::directory_iterator(out_))
    if (e.path().filename().string().rfind(".nestbox-", 0) == 0) leftovers = true;
  EXPECT_TRUE(leftovers);  // the dead run's temp dir, cleaned by the next run
  ASSERT_TRUE(run({a}, 1).ok());
  EXPECT_TRUE(fs::exists(out_ + "/a/usr/bin/new"));
  for (const auto& e : fs::directory_iterator(out_))
    EXPECT_NE(e.path().filename().string().rfind(".nestbox-", 0), 0u) << e.path();
}

TEST_F(Compose, HostileArchiveFailsWithoutTouchingOutputOrHost) {
  Manifest a = manifest("a", RootfsStrategy::kTree);
  ASSERT_TRUE(run({a}, 1).ok());
  std::string before = describe(out_ + "/a");
  using testing::Member;
  for (const auto& members : std::vector<std::vector<Member>>{
           {{.name = "../../../../../tmp/nestbox-pwned", .data = "x"}},
           {{.name = "/tmp/nestbox-pwned", .data = "x"}},
           {{.name = "lnk", .type = AE_IFLNK, .link = "/tmp"}, {.name = "lnk/nestbox-pwned"}},
           {{.name = "esc", .type = AE_IFLNK, .link = "../../../../../../tmp"}},
           {{.name = "h", .hardlink = "../../../../etc/passwd"}}}) {
    std::string tar = top_ / "evil.tar";
    write(tar, testing::build_archive(members, "tar"));
    Manifest evil = manifest("a", RootfsStrategy::kTree);
    evil.rootfs.sources.push_back({.kind = manifests::SourceKind::kTar, .path = tar,
                                   .trusted = false});
    auto r = run({evil}, 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kBadInput);
    EXPECT_NE(r.error().message.find(tar + ": entry '"), std::string::npos) << r.error().message;
    EXPECT_FALSE(fs::exists("/tmp/nestbox-pwned"));
    EXPECT_EQ(describe(out_ + "/a"), before);
    for (const auto& e : fs::directory_iterator(out_))
      EXPECT_NE(e.path().filename().string().rfind(".nestbox-", 0), 0u) << e.path();
  }
}

// Containers are selected side by side, yet the outcome is the manifests'
// order: the first failing manifest names the error, whichever finished
// first; and archives extracted side by side each keep their own bytes.
TEST_F(Compose, SelectionSideBySideKeepsManifestOrder) {
  Manifest good = manifest("good", RootfsStrategy::kTree);
  Manifest first = manifest("first", RootfsStrategy::kTree);
  first.rootfs.sources.push_back({.path = top_ / "missing-one"});
  Manifest second = manifest("second", RootfsStrategy::kTree);
  second.rootfs.sources.push_back({.path = top_ / "missing-two"});
  for (int round = 0; round < 5; ++round) {
    auto r = run({good, first, second});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("missing-one"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("missing-two"), std::string::npos) << r.error().message;
  }
  // Two archives with the same member, extracted side by side.
  auto with_archive = [&](const std::string& data) {
    std::string tar = top_ / ("pkg-" + data + ".tar");
    write(tar, testing::build_archive({{.name = "etc/which", .data = data}}, "tar"));
    Manifest m = manifest(data, RootfsStrategy::kTree);
    m.rootfs.sources.push_back({.kind = manifests::SourceKind::kTar, .path = tar, .trusted = false});
    return m;
  };
  auto r = run({with_archive("one"), with_archive("two")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(testing::slurp(out_ + "/one/etc/which"), "one");
  EXPECT_EQ(testing::slurp(out_ + "/two/etc/which"), "two");
}

TEST_F(Compose, BinariesPullTheirClosureFromRealPackages) {
  std::string why, cache = testing::foreign_roots(&why);
  if (cache.empty()) GTEST_SKIP() << why;
  std::string root = cache + "/arm64/root";
  Manifest m;
  m.name = "bb";
  m.arch = manifests::Arch::kAarch64;
  m.rootfs.strategy = RootfsStrategy::kTree;
  m.rootfs.sources.push_back({.path = root});
  m.rootfs.binaries = {"/bin/busybox"};
  auto writers = default_writers();
  std::vector<OutputWriter*> ptrs;
  for (auto& w : writers) ptrs.push_back(w.get());
  ComposeOptions o;
  o.out_dir = out_;
  auto r = compose({m}, o, ptrs);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(fs::exists(out_ + "/bb/bin/busybox"));
  EXPECT_TRUE(fs::exists(out_ + "/bb/lib/ld-linux-aarch64.so.1"));
  EXPECT_TRUE(fs::exists(out_ + "/bb/lib/aarch64-linux-gnu/libc.so.6"));
  EXPECT_FALSE(fs::exists(out_ + "/bb/usr/share/doc"));
  EXPECT_FALSE(fs::exists(out_ + "/bb/lib/aarch64-linux-gnu/libm.so.6"));
  // The same binary in a manifest for another architecture is refused.
  m.arch = manifests::Arch::kMipsel;
  auto wrong = compose({m}, o, ptrs);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message,
            "bb: rootfs.binaries: /bin/busybox is ELF machine 183, not the manifest's arch mipsel");
}

TEST(Select, Globs) {
  EXPECT_TRUE(glob_match("/etc/lighttpd/**", "/etc/lighttpd"));
  EXPECT_TRUE(glob_match("/etc/lighttpd/**", "/etc/lighttpd/conf.d/x.conf"));
  EXPECT_TRUE(glob_match("/usr/lib/*.so", "/usr/lib/libx.so"));
  EXPECT_FALSE(glob_match("/usr/lib/*.so", "/usr/lib/sub/libx.so"));
  EXPECT_TRUE(glob_match("/**/*.conf", "/etc/a/b.conf"));
  EXPECT_FALSE(glob_match("/etc", "/etcx"));
  EXPECT_TRUE(glob_match("/**/**/b/**", "/a/b"));
  EXPECT_FALSE(glob_match("/**/b/**/c", "/a/b"));
}

// Each "**" retried every split of the rest: twelve of them against a path
// 40 deep that never matches took ~40^12 steps (the audit's hanging include).
TEST(Select, ManyDoubleStarsMatchInPolynomialTime) {
  std::string pattern, path;
  for (int i = 0; i < 12; ++i) pattern += "/**";
  pattern += "/zz";
  for (int i = 0; i < 40; ++i) path += "/d" + std::to_string(i);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(glob_match(pattern, path));
  EXPECT_TRUE(glob_match(pattern, path + "/zz"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace nestbox::composer
