// Issue 14's containment classes, each observed on the real stack:
//   the container's own session (kill(0), kill(-1) cannot reach the launcher
//   or a sibling), descriptors inherited by the launcher never reach the
//   container, nestbox's init shows no launcher argv/environment, `stop
//   --stop-timeout` is honoured, device nodes are dead unless declared (nodev
//   mounts + the cgroup device allow-list, v1 controller and v2 BPF program),
//   swap limits (unset vs 0), and LSM labels decided from the host's view.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <linux/keyctl.h>
#include <sys/syscall.h>

#include <gtest/gtest.h>

#include "launcher/cgroups.h"
#include "launcher/devices.h"
#include "launcher/features.h"
#include "launcher/lifecycle.h"
#include "launcher/privileges.h"
#include "tests/launcher/support.h"
#include "util/file_io.h"

namespace nestbox::launcher::testing {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Root inside, no user namespace, zero capabilities, no_new_privs, own pid
// namespace: the default container of the adversarial review.
policy::Policy root_policy(const std::string& name, std::vector<std::string> argv) {
  policy::Policy p = full_policy(name, std::move(argv));
  p.uid_map.clear();
  p.gid_map.clear();
  p.namespaces[policy::kNsUser].mode = policy::NsMode::kHost;
  return p;
}

// The launcher in a forked process of its own session (so a regression kills
// only that group, not the test), with a sibling process in its group that
// stands for `boot`'s other children. Returns the launcher's wait status and
// whether the sibling survived the container.
struct Contained {
  int status = 0;
  bool sibling_alive = false;
  std::string out;
};

Contained run_in_own_group(const policy::Policy& p) {
  Contained c;
  std::string out = images()->dir + "/" + p.name + ".out";
  int pipefd[2];
  if (::pipe(pipefd) != 0) return c;
  pid_t launcher = ::fork();
  if (launcher == 0) {
    ::close(pipefd[0]);
    ::setsid();
    pid_t sibling = ::fork();
    if (sibling == 0) {
      for (;;) ::pause();
    }
    FILE* f = std::fopen(out.c_str(), "w");
    Options o = test_options();
    o.stdout_fd = o.stderr_fd = ::fileno(f);
    auto r = run_container(p, squashfs_source(), o);
    if (!r.ok()) std::fprintf(f, "launcher error: %s\n", r.error().message.c_str());
    std::fflush(f);
    char alive = ::waitpid(sibling, nullptr, WNOHANG) == 0 ? 'y' : 'n';
    (void)!::write(pipefd[1], &alive, 1);
    ::kill(sibling, SIGKILL);
    ::waitpid(sibling, nullptr, 0);
    ::_exit(r.ok() ? r->exit_code : 200);
  }
  ::close(pipefd[1]);
  char alive = 'n';
  c.sibling_alive = ::read(pipefd[0], &alive, 1) == 1 && alive == 'y';
  ::close(pipefd[0]);
  ::waitpid(launcher, &c.status, 0);
  auto text = read_file(out);
  c.out = text.ok() ? *text : "";
  return c;
}

TEST(Isolation, KillZeroReachesOnlyTheContainer) {
  NESTBOX_NEED_IMAGES();
  Contained c = run_in_own_group(root_policy("i-kill0", {"/bin/probe", "kill", "group"}));
  ASSERT_TRUE(WIFEXITED(c.status)) << "the launcher was killed by signal " << WTERMSIG(c.status);
  EXPECT_EQ(WEXITSTATUS(c.status), 128 + SIGKILL) << c.out;  // the probe killed itself
  EXPECT_TRUE(c.sibling_alive);
  EXPECT_EQ(c.out, "killing group\n");
  EXPECT_EQ(leftovers("i-kill0"), std::vector<std::string>{});
}

TEST(Isolation, KillMinusOneReachesOnlyTheContainer) {
  NESTBOX_NEED_IMAGES();
  // A second process in the container for kill(-1) to find.
  Contained c = run_in_own_group(
      root_policy("i-killall", {"/bin/sh", "-c", "probe stubborn & sleep 0.2; exec probe kill all"}));
  ASSERT_TRUE(WIFEXITED(c.status)) << "the launcher was killed by signal " << WTERMSIG(c.status);
  EXPECT_EQ(WEXITSTATUS(c.status), 0) << c.out;
  EXPECT_TRUE(c.sibling_alive);
  EXPECT_EQ(c.out, "stubborn\nkilling all\nkill all ok\n");
  EXPECT_EQ(leftovers("i-killall"), std::vector<std::string>{});
}

TEST(Isolation, HostPidNamespaceNeedsAnUnprivilegedUserNamespace) {
  policy::Policy p = root_policy("i-hostpid", {"/bin/true"});
  p.namespaces[policy::kNsPid].mode = policy::NsMode::kHost;
  const char* why =
      "policy i-hostpid: the host's pid namespace needs a new user namespace that does not map host uid 0 "
      "(the container could signal the launcher and other containers)";
  EXPECT_EQ(check_policy(p).error().message, why);
  p.uid_map = {{0, 0, 1}, {1, 100001, 65535}};
  p.gid_map = {{0, 100000, 65536}};
  p.namespaces[policy::kNsUser].mode = policy::NsMode::kNew;
  EXPECT_EQ(check_policy(p).error().message, why);
  p.uid_map = {{0, 100000, 65536}};
  EXPECT_TRUE(check_policy(p).ok());
}

// The container's cgroup files belong to kCgroupOwner (cgroups.cc: seal);
// a container running as that id, or mapping it, would own them again.
TEST(Isolation, CgroupOwnerIdIsNeverTheContainers) {
  policy::Policy p = root_policy("i-owner", {"/bin/true"});
  const char* why = "policy i-owner: host id 4294967294 is reserved (it owns the container's cgroup files)";
  p.process.uid = 4294967294u;
  EXPECT_EQ(check_policy(p).error().message, why);
  p.process.uid = 0;
  p.process.gid = 4294967294u;
  EXPECT_EQ(check_policy(p).error().message, why);
  p.process.gid = 0;
  EXPECT_TRUE(check_policy(p).ok());
  p.namespaces[policy::kNsUser].mode = policy::NsMode::kNew;
  p.uid_map = {{0, 100000, 65536}};
  p.gid_map = {{0, 4294901760u, 65535}};  // up to 4294967294
  EXPECT_EQ(check_policy(p).error().message, why);
  p.gid_map = {{0, 4294901760u, 65534}};
  EXPECT_TRUE(check_policy(p).ok());
}

TEST(Isolation, InheritedDescriptorsDoNotReachTheContainer) {
  NESTBOX_NEED_IMAGES();
  // The caller of the launcher left the host's `/` open as fd 7, without
  // close-on-exec: /proc/self/fd/7/.. would walk the host.
  int host_root = ::open("/", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(host_root, 0);
  ASSERT_EQ(::dup2(host_root, 7), 7);
  ::close(host_root);
  Outcome r = run(full_policy("i-fds", {"/bin/sh", "-c", "probe fds; probe exists /proc/self/fd/7"}),
                  squashfs_source());
  ::close(7);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "fds\nexists /proc/self/fd/7 no\n");
  EXPECT_EQ(leftovers("i-fds"), std::vector<std::string>{});
}


// Without a user namespace the container's root is the host's uid 0: the
// session keyring it inherited would give it the caller's keys (possession).
TEST(Isolation, ContainerGetsASessionKeyringOfItsOwn) {
  NESTBOX_NEED_IMAGES();
  long ring = ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "nestbox-test-caller");
  if (ring < 0 && errno == ENOSYS) GTEST_SKIP() << "kernel without keys";
  ASSERT_GE(ring, 0) << std::strerror(errno);
  const char secret[] = "host secret";
  ASSERT_GE(::syscall(SYS_add_key, "user", "nestbox-test-secret", secret, sizeof secret - 1,
                      KEY_SPEC_SESSION_KEYRING), 0);
  Outcome r = run(full_policy("i-keys", {"/bin/probe", "keyring", std::to_string(ring)}), squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "session own, caller's secret not found\n");
  EXPECT_EQ(leftovers("i-keys"), std::vector<std::string>{});
}

TEST(Isolation, ExecGetsNoInheritedDescriptorsAndItsOwnSession) {
  NESTBOX_NEED_IMAGES();
  Background bg(root_policy("i-exec", {"/bin/probe", "sleep"}), test_options(), /*own_session=*/true);
  ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
  int host_root = ::open("/", O_RDONLY | O_DIRECTORY);
  ASSERT_EQ(::dup2(host_root, 7), 7);
  ::close(host_root);
  FILE* out = std::tmpfile();
  ExecRequest req;
  req.argv = {"/bin/sh", "-c", "probe fds; probe kill group"};
  req.stdout_fd = req.stderr_fd = ::fileno(out);
  // In a process of its own group, like the test's shell would be.
  pid_t caller = ::fork();
  if (caller == 0) {
    auto r = exec_in_container(images()->state_root, "i-exec", req);
    ::_exit(r.ok() ? *r : 200);
  }
  int st = 0;
  ::waitpid(caller, &st, 0);
  ::close(7);
  std::rewind(out);
  char buf[512] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, out);
  std::fclose(out);
  ASSERT_TRUE(WIFEXITED(st)) << "exec's caller was killed by signal " << WTERMSIG(st);
  EXPECT_EQ(WEXITSTATUS(st), 128 + SIGKILL);
  EXPECT_EQ(std::string(buf, n), "fds\nkilling group\n");
  ASSERT_TRUE(stop_container(images()->state_root, "i-exec", 10000).ok());
  EXPECT_EQ(bg.finish(), 143);
  EXPECT_EQ(leftovers("i-exec"), std::vector<std::string>{});
}

// What `boot` does when one of its launchers was killed outright.
TEST(Isolation, StaleStateOfAKilledLauncherIsCleared) {
  NESTBOX_NEED_IMAGES();
  Background bg(root_policy("i-stale", {"/bin/probe", "sleep"}), test_options(), /*own_session=*/true);
  ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
  EXPECT_FALSE(clear_stale(images()->state_root, "i-stale"));  // running: not touched
  int launcher = container_status(images()->state_root, "i-stale")->launcher_pid;
  ::kill(launcher, SIGKILL);
  bg.finish();
  EXPECT_TRUE(clear_stale(images()->state_root, "i-stale"));
  for (int i = 0; i < 200 && !leftovers("i-stale").empty(); ++i) ::usleep(10000);  // the pid ns dies
  EXPECT_EQ(leftovers("i-stale"), std::vector<std::string>{});
  EXPECT_FALSE(clear_stale(images()->state_root, "i-stale"));  // nothing left
}

// With the host's pid namespace nothing ends the container with a launcher
// killed outright: its processes outlive it. The next start of that name
// (run, not only boot) kills them and removes their cgroups before it starts.
TEST(Isolation, NextStartClearsWhatAKilledLauncherLeftRunning) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = root_policy("i-orphan", {"/bin/probe", "sleep"});
  p.namespaces[policy::kNsPid].mode = policy::NsMode::kHost;
  p.namespaces[policy::kNsUser].mode = policy::NsMode::kNew;
  p.uid_map = {{0, 100000, 65536}};
  p.gid_map = {{0, 100000, 65536}};
  ASSERT_TRUE(check_policy(p).ok());
  std::string left_running;
  {
    Background bg(p, test_options(), /*own_session=*/true);
    ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
    int launcher = container_status(images()->state_root, "i-orphan")->launcher_pid;
    ::kill(launcher, SIGKILL);
    bg.finish();
    ::usleep(200 * 1000);
    left_running = sh("for d in $(cut -d' ' -f3- " + images()->state_root +
                      "/i-orphan/cgroups); do cat $d/cgroup.procs; done 2>/dev/null");
  }
  EXPECT_NE(left_running, "") << "the container should have outlived its launcher here";
  p.process.argv = {"/bin/true"};
  Outcome again = run(p, squashfs_source());
  EXPECT_TRUE(again.ok) << again.error;
  // Killed; host pid 1 reaps the zombies (not the test: they were reparented).
  for (int i = 0; i < 200 && !leftovers("i-orphan").empty(); ++i) ::usleep(10000);
  EXPECT_EQ(leftovers("i-orphan"), std::vector<std::string>{});
}

TEST(Isolation, InitShowsNoLauncherArgumentsOrEnvironment) {
  NESTBOX_NEED_IMAGES();
  for (policy::Policy p : {full_policy("i-init", {"/bin/probe", "init"}),
                           root_policy("i-init", {"/bin/probe", "init"})}) {
    Outcome r = run(p, squashfs_source());
    ASSERT_TRUE(r.ok) << r.error;
    // NULs shown as '|'.
    size_t cut = r.out.find("\nenviron ");
    ASSERT_NE(cut, std::string::npos) << r.out;
    std::string cmdline = r.out.substr(0, cut), environ = r.out.substr(cut + 9);
    EXPECT_EQ(cmdline, "cmdline nestbox-init|");
    // Not dumpable: the container may not even read it; else NULs only.
    EXPECT_TRUE(environ == "EACCES\n" || environ.find_first_not_of('|') == environ.size() - 1) << r.out;
    EXPECT_EQ(r.out.find(images()->dir), std::string::npos);
    EXPECT_EQ(r.out.find("PATH="), std::string::npos);
  }
  EXPECT_EQ(leftovers("i-init"), std::vector<std::string>{});
}

// nestbox's init stays pid 1 for the container's life: it keeps CAP_KILL
// alone of the launcher's capabilities, and no_new_privs.
TEST(Isolation, InitKeepsOnlyCapKill) {
  NESTBOX_NEED_IMAGES();
  for (policy::Policy p : {full_policy("i-initcaps", {"/bin/probe", "initcaps"}),
                           root_policy("i-initcaps", {"/bin/probe", "initcaps"})}) {
    Outcome r = run(p, squashfs_source());
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.out, "eff 0000000000000020 bnd 0000000000000020 nnp 1\n");
  }
  EXPECT_EQ(leftovers("i-initcaps"), std::vector<std::string>{});
}

// The services supervisor (model "system", no command) is pid 1 for the
// container's life and starts services again: of the launcher's capabilities
// it keeps only what that takes (CAP_KILL, CAP_SETGID, CAP_SETUID,
// CAP_SETPCAP and the services' own set), bounding set included, and
// no_new_privs; a restarted service still gets exactly its own set.
TEST(Isolation, ServiceSupervisorKeepsOnlyWhatRestartingNeeds) {
  NESTBOX_NEED_IMAGES();
  for (policy::Policy p : {full_policy("i-supcaps", {}), root_policy("i-supcaps", {})}) {
    p.process.model = policy::Model::kSystem;
    p.process.services = {{"probe", {"/bin/probe", "initcaps"}, policy::Restart::kNever}};
    Outcome r = run(p, squashfs_source());
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.out, "eff 00000000000001e0 bnd 00000000000001e0 nnp 1\n");

    // CAP_NET_BIND_SERVICE (10) granted: the supervisor keeps it to hand on,
    // and the second start (after a failure) gets it as the first did.
    p.caps.keep = uint64_t{1} << 10;
    p.process.services = {{"again",
                           {"/bin/sh", "-c", "/bin/probe initcaps; /bin/busybox grep CapEff /proc/self/status; exit 3"},
                           policy::Restart::kOnFailure, 1, 10}};
    r = run(p, squashfs_source());
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.result.exit_code, 1) << r.out;  // the service failed for good
    std::string once = "eff 00000000000005e0 bnd 00000000000005e0 nnp 1\nCapEff:\t0000000000000400\n";
    EXPECT_EQ(r.out.substr(0, 2 * once.size()), once + once) << r.out;
  }
  EXPECT_EQ(leftovers("i-supcaps"), std::vector<std::string>{});
}

TEST(Isolation, StopTimeoutOfStopReplacesTheLaunchers) {
  NESTBOX_NEED_IMAGES();
  Options o = test_options();
  o.stop_timeout_ms = 60000;  // the launcher's own: a minute
  Background bg(root_policy("i-stoptime", {"/bin/probe", "stubborn"}), o, /*own_session=*/true);
  ASSERT_TRUE(bg.wait_for("stubborn\n")) << bg.output();
  timespec t0, t1;
  ::clock_gettime(CLOCK_MONOTONIC, &t0);
  std::string out = sh(std::string(NESTBOX_LAUNCH) + " stop i-stoptime --stop-timeout 300 --state-dir " +
                       images()->state_root + " 2>&1; echo \"exit $?\"");
  ::clock_gettime(CLOCK_MONOTONIC, &t1);
  long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  EXPECT_EQ(out, "exit 0\n");
  EXPECT_LT(ms, 4000);
  EXPECT_EQ(bg.finish(), 128 + SIGKILL);  // it ignored SIGTERM: killed after 300 ms
  EXPECT_EQ(leftovers("i-stoptime"), std::vector<std::string>{});
}

// ---- Device nodes -------------------------------------------------------

// A real loop device over a file of the test, and a rootfs tree (a copy of
// the probe rootfs) holding block nodes with its major/minor.
class DeviceFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!images()) GTEST_SKIP() << "needs root, mksquashfs and the probe";
    dir_ = images()->dir + "/devices";
    ASSERT_EQ(sh("mkdir -p " + dir_ + " && truncate -s 1M " + dir_ + "/backing && echo ok"), "ok\n");
    for (std::string* dev : {&dev_, &dev2_}) {
      *dev = trim(sh("losetup -f --show " + dir_ + "/backing"));
      ASSERT_EQ(dev->rfind("/dev/loop", 0), 0u) << *dev;
    }
    struct stat st, st2;
    ASSERT_EQ(::stat(dev_.c_str(), &st), 0);
    ASSERT_EQ(::stat(dev2_.c_str(), &st2), 0);
    rdev_ = st.st_rdev;
    rdev2_ = st2.st_rdev;
    tree_ = dir_ + "/tree";
    ASSERT_EQ(sh("cp -a " + images()->tree + " " + tree_ + " && echo ok"), "ok\n");
    ASSERT_EQ(::mknod((tree_ + "/blk").c_str(), S_IFBLK | 0666, rdev_), 0);
    ASSERT_EQ(::mknod((tree_ + "/declared").c_str(), S_IFBLK | 0666, rdev2_), 0);
    ASSERT_EQ(::chmod((tree_ + "/blk").c_str(), 0666), 0);
    ASSERT_EQ(::chmod((tree_ + "/declared").c_str(), 0666), 0);
  }
  void TearDown() override {
    for (const std::string& dev : {dev_, dev2_})
      if (!dev.empty()) sh("losetup -d " + dev);
    if (!dir_.empty()) sh("rm -rf " + dir_);
    // Our own loop devices are gone: nothing of the containers may be left.
    for (const char* name : {"i-dev", "i-devdecl", "i-mknod"})
      EXPECT_EQ(leftovers(name), std::vector<std::string>{});
  }
  RootfsSource tree() const {
    RootfsSource s;
    s.kind = RootfsSource::Kind::kTree;
    s.tree = tree_;
    return s;
  }
  RootfsSource squashfs() {
    std::string image = dir_ + "/devices.sqfs";
    if (::access(image.c_str(), F_OK) != 0)
      sh("mksquashfs " + tree_ + " " + image + " -noappend -quiet >/dev/null 2>&1");
    RootfsSource s;
    s.kind = RootfsSource::Kind::kSquashfs;
    s.image.path = image;
    return s;
  }
  std::string dir_, dev_, dev2_, tree_;
  dev_t rdev_ = 0, rdev2_ = 0;
};

TEST_F(DeviceFixture, UndeclaredNodesInAnyRootAreDead) {
  std::vector<std::string> argv = {"/bin/sh", "-c", "probe open /blk; probe rootopts"};
  policy::Policy unprivileged = full_policy("i-dev", argv);
  unprivileged.process.uid = unprivileged.process.gid = 1000;
  policy::Policy root = root_policy("i-dev", argv);
  policy::Policy writable = root;
  writable.read_only_root = false;  // an overlay over the image
  struct Case {
    const char* what;
    const policy::Policy* p;
    RootfsSource src;
  } cases[] = {{"tree, uid 1000", &unprivileged, tree()}, {"tree, root", &root, tree()},
               {"squashfs, uid 1000", &unprivileged, squashfs()}, {"squashfs, root", &root, squashfs()},
               {"overlay, root", &writable, squashfs()}, {"overlay over tree, root", &writable, tree()}};
  for (const Case& c : cases) {
    Outcome r = run(*c.p, c.src);
    ASSERT_TRUE(r.ok) << c.what << ": " << r.error;
    // nodev answers (EACCES); the allow-list would refuse next (EPERM, below).
    EXPECT_EQ(r.out.substr(0, r.out.find('\n') + 1), "open /blk read EACCES write EACCES\n") << c.what;
    std::string opts = r.out.substr(r.out.find("root ") + 5);
    EXPECT_NE(("," + opts).find(",nodev,"), std::string::npos) << c.what << ": " << r.out;
  }
}

TEST_F(DeviceFixture, DeclaredDeviceWorksAndNothingElse) {
  policy::Policy p = root_policy(
      "i-devdecl", {"/bin/sh", "-c", "probe open /declared; probe open /blk; probe open /dev/disk/declared"});
  // Declared twice: where the image has it, and below /dev (the launcher makes that one).
  p.devices = {{policy::DeviceType::kBlock, major(rdev2_), minor(rdev2_), 0666, 0, 0, "/declared"},
               {policy::DeviceType::kBlock, major(rdev2_), minor(rdev2_), 0600, 0, 0, "/dev/disk/declared"}};
  for (const RootfsSource& src : {tree(), squashfs()}) {
    Outcome r = run(p, src);
    ASSERT_TRUE(r.ok) << r.error;
    // The image mount allows device nodes now; the allow-list admits only the declared one.
    EXPECT_EQ(r.out, "open /declared read ok write ok\nopen /blk read EPERM write EPERM\n"
                     "open /dev/disk/declared read ok write ok\n");
  }
  // As uid 1000 in a user namespace the 0600 node of root stays closed.
  policy::Policy user = full_policy("i-devdecl", {"/bin/probe", "open", "/dev/disk/declared"});
  user.devices = p.devices;
  user.process.uid = user.process.gid = 1000;
  Outcome r = run(user, tree());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "open /dev/disk/declared read EACCES write EACCES\n");
}

TEST_F(DeviceFixture, MknodWithCapMknodCreatesNothingUsable) {
  policy::Policy p = root_policy(
      "i-mknod", {"/bin/probe", "mknod", "/dev/sneaky", "b", std::to_string(major(rdev_)),
                  std::to_string(minor(rdev_))});
  p.caps.keep = uint64_t(1) << 27;  // CAP_MKNOD, in the writable /dev tmpfs
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "mknod /dev/sneaky EPERM\n");
  // The minimal /dev still works.
  p.process.argv = {"/bin/sh", "-c", "probe open /dev/null; probe open /dev/zero; probe open /dev/ptmx"};
  r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "open /dev/null read ok write ok\nopen /dev/zero read ok write ok\n"
                   "open /dev/ptmx read ok write ok\n");
}

TEST(DeviceProgram, OneCompareChainPerRule) {
  std::vector<DeviceRule> rules = {{'c', 1, 3}, {'c', 136, -1}, {'b', 7, 2}};
  std::vector<uint64_t> prog = device_program(rules);
  // 6 loads, then per rule its compares + "r0 = 1; exit", then "r0 = 0; exit".
  EXPECT_EQ(prog.size(), 6u + (3 + 2) + (2 + 2) + (3 + 2) + 2);
  EXPECT_EQ(v1_allow_lines(rules), (std::vector<std::string>{"c 1:3 rwm", "c 136:* rwm", "b 7:2 rwm"}));
  policy::Policy p;
  p.devices = {{policy::DeviceType::kBlock, 7, 2}};
  std::vector<DeviceRule> all = device_rules(p);
  ASSERT_EQ(all.size(), 9u);
  EXPECT_EQ(all.back().type, 'b');
  p.dev = policy::DevMode::kNone;  // no minimal /dev: only what is declared
  ASSERT_EQ(device_rules(p).size(), 1u);
  EXPECT_EQ(v1_allow_lines(device_rules(p)), std::vector<std::string>{"b 7:2 rwm"});
}

// The program loads on this kernel and, attached to a cgroup v2 directory
// (no controller needed), admits exactly its rules.
TEST(DeviceProgram, LoadsAndFiltersOnThisKernel) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::vector<DeviceRule> rules = {{'c', 1, 3}};
  auto fd = load_device_program(rules);
  if (!fd.ok() && fd.error().message.find("ENOSYS") != std::string::npos) GTEST_SKIP() << "no bpf()";
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  ::close(*fd);

  std::string own = trim(sh("sed -n 's/^0:://p' /proc/self/cgroup"));
  std::string mount = trim(sh("awk '$3 == \"cgroup2\" {print $2; exit}' /proc/mounts"));
  if (mount.empty()) GTEST_SKIP() << "no cgroup v2 hierarchy";
  std::string dir = mount + (own == "/" ? "" : own) + "/nestbox-bpf-test";
  ::rmdir(dir.c_str());
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir << ": " << std::strerror(errno);
  Cgroup cg = Cgroup::attach({{dir, true, ""}});
  Status s = restrict_devices(cg, rules);
  ASSERT_TRUE(s.ok()) << s.error().message;
  pid_t child = ::fork();
  if (child == 0) {
    if (!cg.add(0).ok()) ::_exit(10);
    int null_fd = ::open("/dev/null", O_RDWR);
    int zero_fd = ::open("/dev/zero", O_RDONLY);
    ::_exit(null_fd >= 0 && zero_fd < 0 && errno == EPERM ? 0 : 11);
  }
  int st = 0;
  ::waitpid(child, &st, 0);
  ::rmdir(dir.c_str());
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "child status " << st;
}

// ---- Swap -------------------------------------------------------------

// The v1 memory directory of a cgroup made for `limits` (empty: none).
std::string memsw_of(const Cgroup& cg) {
  for (const CgroupDir& d : cg.dirs())
    if (d.controllers == "memory") return trim(sh("cat " + d.path + "/memory.memsw.limit_in_bytes"));
  return "";
}

TEST(Swap, ZeroAndUnsetMeanNoSwapAndARequestedLimitFailsClosed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  if (trim(sh("grep -c ' - cgroup cgroup .*memory' /proc/self/mountinfo")) == "0")
    GTEST_SKIP() << "no cgroup v1 memory controller";
  bool accounted = !trim(sh("ls /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null")).empty();
  policy::Cgroups limits;
  limits.memory_max = 32 << 20;
  {
    auto cg = Cgroup::create("i-swap-unset", "", limits);
    ASSERT_TRUE(cg.ok()) << cg.error().message;
    if (accounted) {
      EXPECT_EQ(memsw_of(*cg), std::to_string(32 << 20));  // no swap on top
    }
  }
  limits.memory_swap_max = 0;
  {
    auto cg = Cgroup::create("i-swap-zero", "", limits);
    if (accounted) {
      ASSERT_TRUE(cg.ok()) << cg.error().message;
      EXPECT_EQ(memsw_of(*cg), std::to_string(32 << 20));
    } else {
      ASSERT_FALSE(cg.ok());
      EXPECT_EQ(cg.error().message,
                "memory_swap_max: memory.memsw.limit_in_bytes is not available "
                "(no swap accounting: CONFIG_MEMCG_SWAP, swapaccount=1)");
    }
  }
  limits.memory_swap_max = 16 << 20;
  {
    auto cg = Cgroup::create("i-swap-16m", "", limits);
    if (accounted) {
      ASSERT_TRUE(cg.ok()) << cg.error().message;
      EXPECT_EQ(memsw_of(*cg), std::to_string(48 << 20));
    } else {
      EXPECT_FALSE(cg.ok());
    }
  }
  EXPECT_EQ(trim(sh("find /sys/fs/cgroup -maxdepth 4 -type d -name 'nestbox-i-swap-*'")), "");
}

// v1 takes memory + swap as one number: past INT64_MAX it wrapped into a
// memsw limit below the memory limit. Refused, not written.
TEST(Swap, MemoryPlusSwapPastInt64IsRefusedNotWrapped) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  if (trim(sh("grep -c ' - cgroup cgroup .*memory' /proc/self/mountinfo")) == "0")
    GTEST_SKIP() << "no cgroup v1 memory controller";
  if (trim(sh("ls /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null")).empty())
    GTEST_SKIP() << "no swap accounting";
  policy::Cgroups limits;
  limits.memory_max = 1ull << 62;
  limits.memory_swap_max = 1ull << 62;
  auto cg = Cgroup::create("i-swap-wrap", "", limits);
  ASSERT_FALSE(cg.ok());
  EXPECT_EQ(cg.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(cg.error().message,
            "memory_max 4611686018427387904 + memory_swap_max 4611686018427387904 exceeds 9223372036854775807 bytes");
  EXPECT_EQ(trim(sh("find /sys/fs/cgroup -maxdepth 4 -type d -name 'nestbox-i-swap-*'")), "");
}

// ---- LSM labels --------------------------------------------------------

TEST(Lsm, TheHostsViewDecides) {
  std::string root = images() ? images()->dir + "/lsm" : "/tmp/nestbox-lsm-test";
  sh("rm -rf " + root + " && mkdir -p " + root + "/sys/kernel/security " + root +
     "/sys/module/apparmor/parameters " + root + "/sys/fs/selinux");
  auto put = [&](const std::string& file, const std::string& text) {
    ASSERT_TRUE(write_file_atomic(root + file, text).ok());
  };
  put("/sys/kernel/security/lsm", "lockdown,capability,apparmor");
  EXPECT_TRUE(apparmor_active(root));
  EXPECT_FALSE(selinux_active(root));
  put("/sys/kernel/security/lsm", "capability,selinux");
  EXPECT_FALSE(apparmor_active(root));
  EXPECT_TRUE(selinux_active(root));
  // Without securityfs: the module parameter and selinuxfs.
  sh("rm " + root + "/sys/kernel/security/lsm");
  put("/sys/module/apparmor/parameters/enabled", "Y\n");
  put("/sys/fs/selinux/enforce", "1");
  EXPECT_TRUE(apparmor_active(root));
  EXPECT_TRUE(selinux_active(root));
  put("/sys/module/apparmor/parameters/enabled", "N\n");
  EXPECT_FALSE(apparmor_active(root));
  sh("rm -rf " + root);
}

TEST(Lsm, RequestedLabelTheKernelCannotApplyRefusesTheStart) {
  NESTBOX_NEED_IMAGES();
  if (apparmor_active("") || selinux_active(""))
    GTEST_SKIP() << "this kernel has an LSM: the label would really be applied";
  policy::Policy p = full_policy("i-lsm", {"/bin/true"});
  p.sys = policy::SysMode::kNone;  // the container's own /sys shows nothing either way
  p.apparmor_profile = "nestbox-app";
  Outcome r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "AppArmor profile 'nestbox-app' requested, but AppArmor is not active in this kernel "
            "(CONFIG_SECURITY_APPARMOR)");
  p.apparmor_profile.clear();
  p.selinux_context = "system_u:system_r:container_t:s0";
  r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "SELinux context 'system_u:system_r:container_t:s0' requested, but SELinux is not active in "
            "this kernel (CONFIG_SECURITY_SELINUX)");
  EXPECT_EQ(leftovers("i-lsm"), std::vector<std::string>{});
}

}  // namespace
}  // namespace nestbox::launcher::testing
