#include "composer/source_tree.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "composer/closure.h"
#include "composer/select.h"
#include "composer/source_file.h"
#include "tests/composer/archive_builder.h"
#include "tests/composer/test_util.h"

namespace nestbox::composer {
namespace {

namespace fs = std::filesystem;
using manifests::SourceKind;
using testing::build_archive;
using testing::Member;
using testing::TempDir;

// Every file under `top` that is not inside `allowed`: what escaped.
std::vector<std::string> escaped_files(const std::string& top, const std::string& allowed) {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(top); it != fs::recursive_directory_iterator();
       ++it) {
    std::string p = it->path().string();
    if (p == allowed || p.rfind(allowed + "/", 0) == 0 || allowed.rfind(p + "/", 0) == 0)
      continue;
    out.push_back(p);
  }
  return out;
}

class Sources : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch_ = top_ / ("work/scratch" + std::to_string(++round_));
    fs::create_directories(scratch_);
    tree_ = std::make_unique<SourceTree>(scratch_);
  }
  std::string put(const std::string& name, const std::string& bytes) {
    std::string p = top_ / ("in/" + name);
    testing::write(p, bytes);
    return p;
  }
  // Ingests `members` as a tar.gz and expects the exact error message.
  void expect_refused(const std::vector<Member>& members, const std::string& message,
                      IngestOptions opts = {}) {
    std::string tar = put("bad.tar.gz", build_archive(members, "tar.gz"));
    Status st = tree_->add_archive(tar, SourceKind::kTar, opts);
    ASSERT_FALSE(st.ok()) << message;
    EXPECT_EQ(st.error().kind, ErrorKind::kBadInput);
    EXPECT_EQ(st.error().message, tar + ": " + message);
    // Nothing written outside the scratch dir (inputs aside).
    for (const auto& f : escaped_files(top_.path(), top_ / "work"))
      EXPECT_EQ(f.rfind(top_ / "in", 0), 0u) << "escaped: " << f;
    EXPECT_FALSE(fs::exists("/tmp/nestbox-pwned"));
  }

  TempDir top_;
  int round_ = 0;
  std::string scratch_;
  std::unique_ptr<SourceTree> tree_;
};

TEST_F(Sources, TarKeepsMetadataOfEveryType) {
  for (const char* fmt : {"tar", "tar.gz", "tar.xz", "tar.zst"}) {
    SetUp();
    std::string tar = put(std::string("a.") + fmt,
                          build_archive({{.name = "./", .type = AE_IFDIR, .mode = 0755},
                                         {.name = "./usr/bin/", .type = AE_IFDIR, .mode = 0750,
                                          .uid = 5, .gid = 6},
                                         {.name = "./usr/bin/tool", .mode = 04755, .data = "#!x",
                                          .uid = 0, .gid = 0, .mtime = 1600000000,
                                          .xattrs = {{"user.b", "2"}, {"security.capability",
                                                                       std::string("\1\0\0\2", 4)}}},
                                         {.name = "./usr/bin/link", .hardlink = "./usr/bin/tool"},
                                         {.name = "./bin", .type = AE_IFLNK, .link = "usr/bin"},
                                         {.name = "./dev/null", .type = AE_IFCHR, .mode = 0666,
                                          .rmajor = 1, .rminor = 3},
                                         {.name = "./run/fifo", .type = AE_IFIFO}},
                                        fmt));
    IngestOptions opts;
    opts.setuid = SetuidPolicy::kKeep;
    opts.allow_file_caps = true;
    opts.declared_nodes = {"/dev/null", "/run/fifo"};
    Status st = tree_->add_archive(tar, SourceKind::kTar, opts);
    ASSERT_TRUE(st.ok()) << fmt << ": " << st.error().message;
    const auto& e = tree_->entries();
    ASSERT_EQ(e.count("/usr/bin/tool"), 1u);
    const FsEntry& tool = e.at("/usr/bin/tool");
    EXPECT_EQ(tool.mode, 04755u);
    EXPECT_EQ(tool.mtime, 1600000000);
    EXPECT_EQ(tool.size, 3u);
    EXPECT_EQ(testing::slurp(tool.source_path), "#!x");
    ASSERT_EQ(tool.xattrs.size(), 2u);
    EXPECT_EQ(tool.xattrs[0].name, "security.capability");
    EXPECT_EQ(tool.xattrs[1].name, "user.b");
    EXPECT_EQ(e.at("/usr/bin").uid, 5u);
    EXPECT_EQ(e.at("/usr/bin").mode, 0750u);
    EXPECT_EQ(e.at("/usr").type, EntryType::kDirectory);  // implicit parent
    EXPECT_EQ(e.at("/usr/bin/link").source_path, tool.source_path);
    // One inode in the archive: one link_id (the image keeps them one inode).
    EXPECT_NE(tool.link_id, 0u);
    EXPECT_EQ(e.at("/usr/bin/link").link_id, tool.link_id);
    EXPECT_EQ(e.at("/bin").link_target, "usr/bin");
    EXPECT_EQ(e.at("/dev/null").type, EntryType::kCharDevice);
    EXPECT_EQ(e.at("/dev/null").rdev_major, 1u);
    EXPECT_EQ(e.at("/dev/null").rdev_minor, 3u);
    EXPECT_EQ(e.at("/run/fifo").type, EntryType::kFifo);
  }
}

TEST_F(Sources, DebAndIpkReadTheirDataMember) {
  std::vector<Member> data = {{.name = "./usr/sbin/dnsmasq", .mode = 0755, .data = "ELF?"},
                              {.name = "./etc/dnsmasq.conf", .data = "port=53\n"}};
  std::string deb = put("x.deb", testing::build_deb(data));
  std::string ipk = put("x.ipk", testing::build_ipk(data));
  ASSERT_TRUE(tree_->add_archive(deb, SourceKind::kDeb, {}).ok());
  EXPECT_EQ(testing::slurp(tree_->entries().at("/etc/dnsmasq.conf").source_path), "port=53\n");
  SetUp();
  Status st = tree_->add_archive(ipk, SourceKind::kIpk, {});
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(tree_->entries().at("/usr/sbin/dnsmasq").mode, 0755u);
  // Control files never end up in the tree.
  EXPECT_EQ(tree_->entries().count("/control"), 0u);
  std::string not_pkg = put("y.ipk", build_archive({{.name = "readme", .data = "x"}}, "tar.gz"));
  st = tree_->add_archive(not_pkg, SourceKind::kIpk, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, not_pkg + ": no data.tar member (not an .ipk or .deb package)");
}

TEST_F(Sources, RealDebianPackagesAndClosureOverThem) {
  std::string why, roots = testing::foreign_roots(&why);
  if (roots.empty()) GTEST_SKIP() << why;
  std::string cache = roots + "/armhf/debs";
  std::vector<std::string> debs;
  for (const auto& e : fs::directory_iterator(cache)) debs.push_back(e.path());
  std::sort(debs.begin(), debs.end());  // busybox before libc6: layering order is irrelevant here
  for (const auto& d : debs) {
    Status st = tree_->add_archive(d, SourceKind::kDeb, {});
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  manifests::Rootfs extras;
  extras.files.push_back({.path = "/etc/ld.so.conf", .content = "include /etc/ld.so.conf.d/*.conf\n"});
  ASSERT_TRUE(tree_->add_extras(extras, "").ok());
  auto c = compute_closure(*tree_->view(), {"/bin/busybox"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listed_paths, (std::vector<std::string>{"/bin/busybox", "/lib/ld-linux-armhf.so.3",
                                                       "/lib/arm-linux-gnueabihf/libresolv.so.2",
                                                       "/lib/arm-linux-gnueabihf/libc.so.6"}));
}

TEST_F(Sources, StagingDirectoryKeepsModesXattrsAndSymlinks) {
  std::string dir = top_ / "staging";
  testing::write(dir + "/usr/bin/app", "app", 0750);
  testing::symlink_at("/usr/bin/app", dir + "/bin/app");
  ASSERT_EQ(setxattr((dir + "/usr/bin/app").c_str(), "user.nestbox", "v", 1, 0), 0);
  ASSERT_EQ(mkfifo((dir + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(link((dir + "/usr/bin/app").c_str(), (dir + "/usr/bin/app2").c_str()), 0);
  ASSERT_EQ(link((dir + "/fifo").c_str(), (dir + "/fifo2").c_str()), 0);
  ASSERT_TRUE(tree_->add_directory(dir, {}).ok());
  const auto& e = tree_->entries();
  // Hard links: one link_id per host inode; a single name has none.
  EXPECT_NE(e.at("/usr/bin/app").link_id, 0u);
  EXPECT_EQ(e.at("/usr/bin/app2").link_id, e.at("/usr/bin/app").link_id);
  EXPECT_NE(e.at("/fifo").link_id, 0u);
  EXPECT_EQ(e.at("/fifo2").link_id, e.at("/fifo").link_id);
  EXPECT_NE(e.at("/fifo").link_id, e.at("/usr/bin/app").link_id);
  EXPECT_EQ(e.at("/bin/app").link_id, 0u);
  EXPECT_EQ(e.at("/usr/bin/app").mode, 0750u);
  EXPECT_EQ(e.at("/usr/bin/app").source_path, dir + "/usr/bin/app");
  ASSERT_EQ(e.at("/usr/bin/app").xattrs.size(), 1u);
  EXPECT_EQ(e.at("/usr/bin/app").xattrs[0].value, "v");
  EXPECT_EQ(e.at("/bin/app").link_target, "/usr/bin/app");
  EXPECT_EQ(e.at("/fifo").type, EntryType::kFifo);
}

// The walk records each file's inode; writers open the path again later. A
// directory swapped for a symlink in between (a racer renaming
// stg/d <-> stg/x/d -> /etc put the host's /etc/shadow into images) names
// another file of the same size: refused, never read.
TEST_F(Sources, StagingFileSwappedAfterTheWalkIsRefusedWhenOpened) {
  std::string dir = top_ / "staging";
  testing::write(dir + "/d/secret", "staging", 0644);
  testing::write(top_ / "host/secret", "HOSTKEY", 0600);  // same size, another file
  ASSERT_TRUE(tree_->add_directory(dir, {}).ok());
  const FsEntry& e = tree_->entries().at("/d/secret");
  auto before = open_source_file(e);
  ASSERT_TRUE(before.ok()) << before.error().message;
  std::filesystem::rename(dir + "/d", top_ / "staged-d");
  testing::symlink_at(top_ / "host", dir + "/d");
  auto after = open_source_file(e);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().message, dir + "/d/secret (for /d/secret): not the file its source held when it "
                                         "was read (a path swapped since): refused");
  EXPECT_EQ(after.error().kind, ErrorKind::kBadInput);
}

// The same racer during the walk itself (stg/d exchanged with stg/l -> HOST
// over and over): the walk goes name by name below directories it holds
// open, so it never lists HOST's files, whichever way each step goes.
TEST_F(Sources, StagingDirectorySwappedForASymlinkDuringTheWalkIsNeverEntered) {
  std::string dir = top_ / "staging", host = top_ / "host";
  for (int i = 0; i < 64; ++i) testing::write(dir + "/d/sub/f" + std::to_string(i), "staging");
  testing::write(host + "/host-only-secret", "HOSTKEY", 0600);
  fs::create_directories(host + "/sub");
  testing::symlink_at(host, dir + "/l");
  std::atomic<bool> stop{false};
  std::thread racer([&] {
    while (!stop) renameat2(AT_FDCWD, (dir + "/d").c_str(), AT_FDCWD, (dir + "/l").c_str(), RENAME_EXCHANGE);
  });
  int walks = 0, leaks = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until) {
    std::string scratch = top_ / ("work/race" + std::to_string(walks));
    fs::create_directories(scratch);
    SourceTree t(scratch);
    ++walks;
    if (!t.add_directory(dir, {}).ok()) continue;  // refused: changed under the walk
    for (const auto& [path, e] : t.entries())
      if (path.find("host-only-secret") != std::string::npos) ++leaks;
  }
  stop = true;
  racer.join();
  EXPECT_GT(walks, 10);
  EXPECT_EQ(leaks, 0) << "the host's file was listed in " << leaks << " of " << walks << " walks";
}

TEST_F(Sources, StagingSymlinkEscapingTheRootIsRefused) {
  std::string dir = top_ / "staging";
  testing::symlink_at("../../../etc/shadow", dir + "/etc/shadow");
  Status st = tree_->add_directory(dir, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, dir + ": entry '/etc/shadow': symlink target "
                                      "'../../../etc/shadow' points outside the root");
}

TEST_F(Sources, ManifestDeviceTableAndExtras) {
  manifests::Rootfs r;
  r.dirs.push_back({.path = "/data", .mode = 0700, .owner = {10, 20}});
  r.files.push_back({.path = "/etc/hostname", .content = "box\n", .mode = 0600});
  r.symlinks.push_back({.path = "/etc/mtab", .target = "/proc/mounts"});
  r.devices.push_back({.path = "/dev/ttyS0", .type = manifests::DeviceType::kChar, .major = 4,
                       .minor = 64, .mode = 0620, .owner = {0, 5}});
  ASSERT_TRUE(tree_->add_extras(r, "").ok());
  const auto& e = tree_->entries();
  EXPECT_EQ(e.at("/data").mode, 0700u);
  EXPECT_EQ(e.at("/data").uid, 10u);
  EXPECT_EQ(testing::slurp(e.at("/etc/hostname").source_path), "box\n");
  EXPECT_EQ(e.at("/etc/mtab").link_target, "/proc/mounts");
  EXPECT_EQ(e.at("/dev/ttyS0").rdev_minor, 64u);
  EXPECT_EQ(e.at("/dev/ttyS0").gid, 5u);
  manifests::Rootfs bad;
  bad.symlinks.push_back({.path = "/x", .target = "../../etc"});
  Status st = tree_->add_extras(bad, "");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "rootfs.symlinks '/x': symlink target '../../etc' points outside the root");
}

// A [[rootfs.file]] source through a symlinked directory (a staging
// "stg/cfg -> /etc", source "stg/cfg/shadow") read the host's file; a symlink
// anywhere below the manifest's directory is refused, as one at the end was.
TEST_F(Sources, FileSourceThroughASymlinkedDirectoryIsRefused) {
  std::string dir = top_ / "m";
  testing::write(dir + "/stg/real/app.conf", "ok\n");
  testing::write(top_ / "host/shadow", "secret\n");
  testing::symlink_at(top_ / "host", dir + "/stg/cfg");
  testing::symlink_at("app.conf", dir + "/stg/real/link.conf");
  auto add = [&](const std::string& source) {
    manifests::Rootfs r;
    r.files.push_back({.path = "/etc/f", .source = source, .mode = 0644});
    return tree_->add_extras(r, dir);
  };
  Status st = add("stg/cfg/shadow");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(st.error().message, "rootfs.files '/etc/f': source " + dir + "/stg/cfg/shadow goes through a symlink below " +
                                    dir + "; expected a path of real directories to a regular file");
  st = add("stg/real/link.conf");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("goes through a symlink below"), std::string::npos) << st.error().message;
  st = add(dir + "/stg/cfg/shadow");  // absolute: no symlink below "/" either
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "rootfs.files '/etc/f': source " + dir + "/stg/cfg/shadow goes through a symlink below /" +
                                    "; expected a path of real directories to a regular file");
  st = add("../host/shadow");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "rootfs.files '/etc/f': source " + dir + "/../host/shadow leaves " + dir +
                                    "; expected a path below it");
  SetUp();
  ASSERT_TRUE(add("stg/real/app.conf").ok());
  EXPECT_EQ(tree_->entries().at("/etc/f").source_path, dir + "/stg/real/app.conf");
}

// ---- Hostile archives: each refused, nothing escapes ----------------------

TEST_F(Sources, HostileDotDot) {
  expect_refused({{.name = "../../tmp/nestbox-pwned", .data = "x"}},
                 "entry '../../tmp/nestbox-pwned': path '../../tmp/nestbox-pwned' contains '..'");
}

TEST_F(Sources, HostileAbsolutePath) {
  expect_refused({{.name = "/tmp/nestbox-pwned", .data = "x"}},
                 "entry '/tmp/nestbox-pwned': absolute path '/tmp/nestbox-pwned' not allowed");
}

TEST_F(Sources, HostileSymlinkOutsideRoot) {
  expect_refused({{.name = "etc/evil", .type = AE_IFLNK, .link = "../../../tmp"}},
                 "entry 'etc/evil': symlink target '../../../tmp' points outside the root");
}

TEST_F(Sources, HostileHardlinkOutsideRoot) {
  expect_refused({{.name = "etc/shadow", .hardlink = "../../etc/shadow"}},
                 "entry 'etc/shadow': hardlink target: path '../../etc/shadow' contains '..'");
  expect_refused({{.name = "etc/shadow", .hardlink = "/etc/shadow"}},
                 "entry 'etc/shadow': hardlink target: absolute path '/etc/shadow' not allowed");
  expect_refused({{.name = "etc/shadow", .hardlink = "etc/passwd"}},
                 "entry 'etc/shadow': hardlink target 'etc/passwd' is not an earlier regular "
                 "file of this archive");
}

TEST_F(Sources, HostilePathThroughSymlink) {
  expect_refused({{.name = "tmp", .type = AE_IFLNK, .link = "/tmp"},
                  {.name = "tmp/nestbox-pwned", .data = "x"}},
                 "entry 'tmp/nestbox-pwned': path goes through the symlink /tmp");
}

TEST_F(Sources, HostileDuplicateEntry) {
  expect_refused({{.name = "etc/passwd", .data = "root::0:0::/:/bin/sh\n"},
                  {.name = "./etc//passwd", .data = "evil"}},
                 "entry './etc//passwd': duplicate entry");
}

TEST_F(Sources, HostileDeviceRefusedWhenSelectedUnlessDeclared) {
  // Trusted or not: a node the manifest does not declare is refused as soon
  // as selection takes it.
  std::string tar = put("dev.tar", build_archive({{.name = "dev/sda", .type = AE_IFBLK, .rmajor = 8}}, "tar"));
  ASSERT_TRUE(tree_->add_archive(tar, SourceKind::kTar, {}).ok());
  manifests::Manifest m;
  m.name = "c";
  auto t = select_tree(*tree_, m, {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, tar + ": entry 'dev/sda': block device 8:0 not declared by the manifest; "
                                     "expected a [[rootfs.device]] with path = \"/dev/sda\", or no such node in the source");
}

TEST_F(Sources, HostileSetuidRefusedOrNeutralised) {
  // Refused as soon as selection takes it (directly or through a hardlink).
  std::string bad = put("su.tar", build_archive({{.name = "bin/su", .mode = 04755, .data = "x"},
                                                 {.name = "sbin/su2", .hardlink = "bin/su"},
                                                 {.name = "etc/motd", .data = "hi"}},
                                                "tar"));
  IngestOptions untrusted;
  untrusted.trusted = false;
  ASSERT_TRUE(tree_->add_archive(bad, SourceKind::kTar, untrusted).ok());
  manifests::Manifest m;
  m.name = "c";
  for (const char* glob : {"/bin/**", "/sbin/su2"}) {
    m.rootfs.include = {glob};
    auto t = select_tree(*tree_, m, {});
    ASSERT_FALSE(t.ok()) << glob;
    EXPECT_EQ(t.error().message, bad + ": entry 'bin/su': setuid/setgid file not allowed by the "
                                       "manifest");
  }
  m.rootfs.include = {"/etc/**"};
  EXPECT_TRUE(select_tree(*tree_, m, {}).ok());
  SetUp();
  std::string tar = put("s.tar", build_archive({{.name = "bin/su", .mode = 06755, .data = "x"}}, "tar"));
  IngestOptions strip;
  strip.setuid = SetuidPolicy::kStrip;
  ASSERT_TRUE(tree_->add_archive(tar, SourceKind::kTar, strip).ok());
  EXPECT_EQ(tree_->entries().at("/bin/su").mode, 0755u);
  ASSERT_EQ(tree_->notes().size(), 1u);
  EXPECT_EQ(tree_->notes()[0].second, tar + ": entry 'bin/su': setuid/setgid bits removed");
}

// system.posix_acl_access is an ACL grant, which the tree writer applied
// (squashfs cannot store it): from an untrusted source any name outside
// user.*, trusted.* and security.* is refused when selected, whatever the
// strategy.
TEST_F(Sources, HostileSystemXattrRefusedFromUntrustedSources) {
  std::string bad = put("acl.tar", build_archive({{.name = "etc/shadow", .data = "x",
                                                   .xattrs = {{"system.posix_acl_access", "acl"}}},
                                                  {.name = "etc/motd", .data = "hi", .xattrs = {{"user.a", "1"}}}},
                                                 "tar"));
  IngestOptions untrusted;
  untrusted.trusted = false;
  ASSERT_TRUE(tree_->add_archive(bad, SourceKind::kTar, untrusted).ok());
  ASSERT_EQ(tree_->entries().at("/etc/shadow").xattrs.size(), 1u);  // the tar carries it
  manifests::Manifest m;
  m.name = "c";
  m.rootfs.include = {"/etc/shadow"};
  auto t = select_tree(*tree_, m, {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, bad + ": entry 'etc/shadow': xattr 'system.posix_acl_access' from an untrusted "
                                     "source; expected only user.*, trusted.* or security.* names");
  m.rootfs.include = {"/etc/motd"};
  EXPECT_TRUE(select_tree(*tree_, m, {}).ok());
}

// LSM labels act on exec like setuid or file capabilities (SMACK64EXEC runs
// the program under its label; a SELinux label can be a privileged domain's
// entrypoint): an untrusted archive's are removed, with a note; a trusted
// source keeps its own, and user.* stays either way.
TEST_F(Sources, LsmLabelsFromUntrustedSourcesAreRemoved) {
  std::string tar = put("lsm.tar", build_archive({{.name = "bin/tool", .mode = 0755, .data = "x",
                                                   .xattrs = {{"security.SMACK64EXEC", "_"},
                                                              {"security.selinux", "system_u:object_r:init_exec_t:s0"},
                                                              {"user.a", "1"}}}},
                                                 "tar"));
  IngestOptions untrusted;
  untrusted.trusted = false;
  ASSERT_TRUE(tree_->add_archive(tar, SourceKind::kTar, untrusted).ok());
  const auto& xs = tree_->entries().at("/bin/tool").xattrs;
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(xs[0].name, "user.a");
  ASSERT_EQ(tree_->notes().size(), 1u);
  EXPECT_EQ(tree_->notes()[0].second, tar + ": entry 'bin/tool': security labels from an untrusted source removed "
                                            "(security.SMACK64EXEC, security.selinux)");
  fs::create_directories(scratch_ + "/t");
  SourceTree trusted_tree(scratch_ + "/t");
  ASSERT_TRUE(trusted_tree.add_archive(tar, SourceKind::kTar, {}).ok());
  EXPECT_EQ(trusted_tree.entries().at("/bin/tool").xattrs.size(), 3u);
}

// A pax owner past 32 bits wrapped: uid 4294967296 was written as root's 0.
TEST_F(Sources, HostileOwnerPast32BitsIsRefused) {
  expect_refused({{.name = "bin/tool", .data = "x", .uid = 4294967296}},
                 "entry 'bin/tool': owner 4294967296:0 out of range; expected a uid and gid from 0 to 4294967294");
  expect_refused({{.name = "bin/tool", .data = "x", .gid = 4294967296 + 1000}},
                 "entry 'bin/tool': owner 0:4294968296 out of range; expected a uid and gid from 0 to 4294967294");
}

TEST_F(Sources, HostileFileOverSizeLimit) {
  IngestOptions limited;
  limited.max_file_size = 10;
  expect_refused({{.name = "big", .data = std::string(11, 'x')}},
                 "entry 'big': file of 11 bytes over the size limit of 10", limited);
}

TEST_F(Sources, CorruptArchiveIsBadInput) {
  std::string tar = build_archive({{.name = "a", .data = std::string(5000, 'a')}}, "tar.gz");
  tar.resize(tar.size() / 2);
  std::string p = put("cut.tar.gz", tar);
  Status st = tree_->add_archive(p, SourceKind::kTar, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(st.error().message.rfind(p + ": ", 0), 0u) << st.error().message;
}

}  // namespace
}  // namespace nestbox::composer
