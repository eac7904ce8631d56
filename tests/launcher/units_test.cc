// The launcher's pieces on their own: exec profile text form, in-root path
// resolution, policy checks and refusals before anything exists, id maps,
// cgroup records, seccomp program validation.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "launcher/cgroups.h"
#include "launcher/features.h"
#include "util/loop_device.h"
#include "launcher/namespaces.h"
#include "launcher/profile.h"
#include "launcher/quoted_output.h"
#include "launcher/rootpath.h"
#include "launcher/service_board.h"
#include "launcher/storage.h"
#include "tests/launcher/support.h"

namespace nestbox::launcher::testing {
namespace {

// nestbox's init reports from inside the container: the launcher takes only
// the policy's service names, known states and bounded counts.
TEST(ServiceBoard, TakesOnlyWellFormedReportsOfKnownServices) {
  policy::Policy p;
  p.process.model = policy::Model::kSystem;
  p.process.services = {{"rsyncd", {"/usr/bin/rsync"}}, {"webdav", {"/usr/sbin/lighttpd"}}};
  ServiceBoard b(p);
  EXPECT_EQ(b.render(), "rsyncd starting 0\nwebdav starting 0\n");
  std::string in = "S rsyncd running 0\nS webdav running 0\nS webdav backoff 1\nS webdav runn";
  EXPECT_TRUE(b.feed(in.data(), in.size()));
  EXPECT_EQ(b.render(), "rsyncd running 0\nwebdav backoff 1\n");
  in = "ing 1\n";  // a line split over two reads
  EXPECT_TRUE(b.feed(in.data(), in.size()));
  EXPECT_EQ(b.render(), "rsyncd running 0\nwebdav running 1\n");
  for (const char* bad : {"S ghost running 0\n", "S webdav pwned 2\n", "S webdav running -1\n",
                          "S webdav running 99999999999\n", "S webdav running 1 extra\n",
                          "S webdav\trunning 3\n", "X webdav running 3\n", "S  webdav running 3\n"}) {
    EXPECT_FALSE(b.feed(bad, std::strlen(bad))) << bad;
  }
  EXPECT_EQ(b.render(), "rsyncd running 0\nwebdav running 1\n");
  std::string huge(5000, 'a');  // no newline: dropped, not buffered forever
  b.feed(huge.data(), huge.size());
  in = "\nF webdav exited with status 1; restarted 5 times in a row (restart_limit 5)\nF rsyncd later\n";
  b.feed(in.data(), in.size());
  EXPECT_EQ(b.failure(), "webdav: exited with status 1; restarted 5 times in a row (restart_limit 5)");
  auto back = parse_services(b.render());
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].name, "webdav");
  EXPECT_EQ(back[1].state, "running");
  EXPECT_EQ(back[1].restarts, 1u);
}

// Storage owners are ids inside the container, mapped to the host's through
// the user namespace; an id the maps do not cover is refused.
// What a container writes reaches boot's log (syslog) only as quoted lines:
// prefixed with its name, no control byte (ESC, CR, NUL), no C1 control nor
// broken UTF-8 (valid UTF-8 stays), over-long lines cut, the last one ended.
TEST(LineQuoter, QuotesEveryLineOfAContainer) {
  LineQuoter q("app: ");
  static const char kIn[] = "nestbox-launch boot: other: committed\n\x1b[1A\x1b[2K\r\0x\tdone\n21 \xc2\xb0""C \xc2\x9b""2J "
                           "\xe2\x82\xac \xff\xc0\x9b\n";
  std::string in(kIn, sizeof kIn - 1);  // with its NUL
  EXPECT_EQ(q.feed(in.data(), in.size()),
            "app: nestbox-launch boot: other: committed\n"
            "app: ?[1A?[2K??x\tdone\n"
            "app: 21 \xc2\xb0""C ??2J \xe2\x82\xac ???\n");
  EXPECT_EQ(q.feed("half", 4), "");  // no newline yet: kept
  EXPECT_EQ(q.feed(" line\nrest", 10), "app: half line\n");
  EXPECT_EQ(q.end(), "app: rest\n");
  EXPECT_EQ(q.end(), "");
  // Longer than kMaxLine: cut there, each piece prefixed; never inside a character.
  std::string long_line = std::string(LineQuoter::kMaxLine - 1, 'a') + "\xe2\x82\xac" + "bc\n";
  EXPECT_EQ(q.feed(long_line.data(), long_line.size()),
            "app: " + std::string(LineQuoter::kMaxLine - 1, 'a') + "\n" + "app: \xe2\x82\xac" + "bc\n");
}

TEST(Storage, OwnerIdsAreMappedThroughTheUserNamespace) {
  std::vector<policy::IdMap> map = {{0, 100000, 1000}, {1000, 5000, 1}};
  EXPECT_EQ(host_id(map, 33, "uid").value(), 100033u);
  EXPECT_EQ(host_id(map, 1000, "uid").value(), 5000u);
  EXPECT_EQ(host_id({}, 33, "uid").value(), 33u);  // no user namespace
  auto r = host_id(map, 1001, "storage owner uid");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "storage owner uid 1001 is not mapped by the user namespace");
}

TEST(Profile, RoundTrips) {
  ExecProfile e;
  e.uid = 1000;
  e.gid = 100;
  e.groups = {5, 20};
  e.caps = 0x2400;
  e.no_new_privs = false;
  e.rlimits = {{7, 64, 128}};
  e.apparmor = "nestbox-app";
  e.seccomp = {0x20, 0, 0, 0, 4, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f};
  e.env = {"PATH=/bin", "A=b c"};
  e.cwd = "/srv";
  auto back = deserialize(serialize(e));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(serialize(*back), serialize(e));
  EXPECT_EQ(back->groups, e.groups);
  EXPECT_EQ(back->seccomp, e.seccomp);
  EXPECT_EQ(back->rlimits[0].hard, 128u);
}

TEST(Profile, RejectsDamage) {
  EXPECT_EQ(deserialize("uid 0\nbogus 1\ncwd /\n").error().message, "exec profile:2: unknown key 'bogus'");
  EXPECT_EQ(deserialize("seccomp 0g\ncwd /\n").error().message, "exec profile:1: bad hex");
  EXPECT_EQ(deserialize("uid 0\n").error().message, "exec profile: no cwd (truncated?)");
}

TEST(RootPath, ResolvesEscapesInsideTheRoot) {
  char tmpl[] = "/tmp/nestbox-rootpath-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string root = tmpl;
  ASSERT_EQ(std::system(("mkdir -p " + root + "/etc " + root + "/tmp && ln -s /../../.. " + root +
                         "/up && ln -s ../../../etc " + root + "/etc/rel").c_str()), 0);
  UniqueFd rfd(::open(root.c_str(), O_PATH | O_DIRECTORY));
  struct stat inside, got;
  ASSERT_EQ(::stat((root + "/etc").c_str(), &inside), 0);
  for (const char* path : {"/../../etc", "/up/etc", "/etc/rel", "/etc/../../etc"}) {
    auto fd = open_in_root(rfd.get(), path, O_PATH | O_DIRECTORY);
    ASSERT_TRUE(fd.ok()) << path << ": " << fd.error().message;
    ASSERT_EQ(::fstat(fd->get(), &got), 0);
    EXPECT_EQ(got.st_ino, inside.st_ino) << path;  // the root's /etc, never the host's
  }
  EXPECT_EQ(open_in_root(rfd.get(), "etc", O_PATH).error().message, "etc: not an absolute path");
  EXPECT_EQ(fd_path(7), "/proc/self/fd/7");
  auto made = mkdirs_in_root(rfd.get(), "/up/new/deeper", 0755);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(::access((root + "/new/deeper").c_str(), F_OK), 0);
  std::system(("rm -rf " + root).c_str());
}

TEST(PolicyChecks, NamesTheProblem) {
  policy::Policy p;
  p.name = "ok";
  EXPECT_EQ(check_policy(p).error().message, "policy ok: process.argv is empty");
  p.process.argv = {"/bin/true"};
  EXPECT_TRUE(check_policy(p).ok());
  p.name = "../evil";
  EXPECT_EQ(check_policy(p).error().message,
            "container name '../evil': 1 to 64 characters, not starting with '.'");
  p.name = "a/b";
  EXPECT_EQ(check_policy(p).error().kind, ErrorKind::kBadInput);
  // Its quoted output under boot ("NAME: ...") would read as the launcher's.
  p.name = "nestbox-launch";
  EXPECT_EQ(check_policy(p).error().message,
            "container name 'nestbox-launch': names starting with \"nestbox\" are the launcher's own");
  p.name = "ok";
  p.namespaces[policy::kNsPid] = {policy::NsMode::kJoin, "other"};
  EXPECT_EQ(check_policy(p).error().message,
            "policy ok: joining a pid namespace needs joining its mount namespace");
  p.namespaces[policy::kNsPid] = {};
  p.process.env = {"A=1\nB=2"};
  EXPECT_EQ(check_policy(p).error().message,
            "policy ok: environment entry 'A=1\nB=2' is not KEY=value on one line");
  p.process.env = {"PATH=/bin"};
  p.uid_map = {{0, 100000, 1}};
  EXPECT_EQ(check_policy(p).error().message, "policy ok: user namespace needs both uid_map and gid_map");
}

TEST(Refusals, PreflightFailureLeavesNothing) {
  NESTBOX_NEED_IMAGES();
  Options o = test_options();
  bool called = false;
  o.preflight = [&](const policy::Policy& p) -> Status {
    called = true;
    return bad_input(p.name + ".img: signature: key 1a2b is revoked");
  };
  Outcome r = run(full_policy("r-refused", {"/bin/true"}), squashfs_source(), o);
  EXPECT_TRUE(called);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error, "r-refused.img: signature: key 1a2b is revoked");
  EXPECT_EQ(leftovers("r-refused"), std::vector<std::string>{});
}

TEST(Refusals, MissingImageAndBadSeccompProgram) {
  NESTBOX_NEED_IMAGES();
  RootfsSource src;
  src.image.path = images()->dir + "/missing.sqfs";
  Outcome r = run(full_policy("r-missing", {"/bin/true"}), src);
  EXPECT_EQ(r.error, "rootfs image: open " + src.image.path + ": No such file or directory");
  EXPECT_EQ(leftovers("r-missing"), std::vector<std::string>{});

  policy::Policy p = full_policy("r-bpf", {"/bin/true"});
  p.seccomp.bpf = {1, 2, 3, 4, 5};
  r = run(p, squashfs_source());
  EXPECT_EQ(r.error, "container r-bpf: seccomp: seccomp program is 5 bytes, not a multiple of 8");
  EXPECT_EQ(leftovers("r-bpf"), std::vector<std::string>{});
}

TEST(IdMap, KernelFormat) {
  EXPECT_EQ(format_id_map({{0, 100000, 65536}, {65536, 1000, 1}}), "0 100000 65536\n65536 1000 1\n");
}

TEST(CgroupRecord, RoundTrips) {
  std::vector<CgroupDir> dirs = {{"/sys/fs/cgroup/unified/x/nestbox-a", true, ""},
                                 {"/sys/fs/cgroup/memory/p q/nestbox-a", false, "memory"}};
  Cgroup cg = Cgroup::attach(dirs);
  EXPECT_EQ(cg.describe(), "v2 - /sys/fs/cgroup/unified/x/nestbox-a\nv1 memory /sys/fs/cgroup/memory/p q/nestbox-a\n");
  std::vector<CgroupDir> back = Cgroup::parse(cg.describe());
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].path, "/sys/fs/cgroup/memory/p q/nestbox-a");
  EXPECT_FALSE(back[1].v2);
  EXPECT_EQ(back[1].controllers, "memory");
  // A directory in a cgroup2 the launcher mounts for itself: its path from
  // the hierarchy's root, marked so that exec and cleanup mount it again.
  Cgroup v2u = Cgroup::attach({{"/x/nestbox-a", false, "", true}});
  EXPECT_EQ(v2u.describe(), "v2u - /x/nestbox-a\n");
  back = Cgroup::parse(v2u.describe());
  ASSERT_EQ(back.size(), 1u);
  EXPECT_TRUE(back[0].unmounted_v2);
  EXPECT_FALSE(back[0].v2);
  EXPECT_EQ(back[0].path, "/x/nestbox-a");
}

TEST(Cgroups, ConfiguredParentBeneathOurOwnCgroup) {
  NESTBOX_NEED_IMAGES();
  Options o = test_options();
  o.cgroup_parent = "nestbox-test-parent/deeper";
  policy::Policy p = full_policy("g-parent", {"/bin/sh", "-c", "cat /proc/self/cgroup"});
  p.cgroups.memory_max = 64 << 20;
  Outcome r = run(p, squashfs_source(), o);
  ASSERT_TRUE(r.ok) << r.error;
  // Inside its cgroup namespace the container sees itself at the root.
  EXPECT_NE(r.out.find(":memory:/\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(":pids:/\n"), std::string::npos) << r.out;
  std::string parents = sh("find /sys/fs/cgroup -maxdepth 5 -type d -path '*nestbox-test-parent/deeper'");
  EXPECT_NE(parents.find("/sys/fs/cgroup/memory/"), std::string::npos) << parents;
  EXPECT_EQ(sh("find /sys/fs/cgroup -maxdepth 6 -type d -name nestbox-g-parent"), "");
  sh("find /sys/fs/cgroup -maxdepth 5 -depth -type d -path '*nestbox-test-parent*' -exec rmdir {} \\;");
  EXPECT_EQ(sh("find /sys/fs/cgroup -maxdepth 5 -type d -name nestbox-test-parent"), "");
  o.cgroup_parent = "../escape";
  r = run(p, squashfs_source(), o);
  EXPECT_EQ(r.error, "cgroup: cgroup parent '../escape': '..'");
}

TEST(Loop, AttachesAWindowReadOnlyAndAutoclears) {
  NESTBOX_NEED_IMAGES();
  std::string dev;
  {
    auto loop = LoopDevice::attach({images()->windowed, images()->window_offset, images()->window_size, true, false});
    ASSERT_TRUE(loop.ok()) << loop.error().message;
    dev = loop->path();
    std::string name = dev.substr(5);
    EXPECT_EQ(sh("cat /sys/block/" + name + "/ro"), "1\n");
    EXPECT_EQ(sh("cat /sys/block/" + name + "/loop/offset"), "4096\n");
    EXPECT_EQ(sh("cat /sys/block/" + name + "/loop/sizelimit"), std::to_string(images()->window_size) + "\n");
    EXPECT_EQ(sh("cat /sys/block/" + name + "/loop/autoclear"), "1\n");
  }
  EXPECT_EQ(sh("cat /sys/block/" + dev.substr(5) + "/loop/backing_file 2>/dev/null"), "");
}

}  // namespace
}  // namespace nestbox::launcher::testing
