// Containment, observed from inside (the probe is the container's process)
// and from outside (the host's view of the same processes).
#include <linux/capability.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include "launcher/cgroups.h"
#include "launcher/lifecycle.h"
#include "tests/launcher/support.h"
#include "util/file_io.h"

namespace nestbox::launcher::testing {
namespace {

TEST(Containment, SeesOnlyItsOwnPids) {
  NESTBOX_NEED_IMAGES();
  Outcome r = run(full_policy("c-pids", {"/bin/probe", "pids"}), squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "pids 1 2\n");  // nestbox's init and the probe
}

TEST(Containment, SeesNoHostFilesOrMounts) {
  NESTBOX_NEED_IMAGES();
  Outcome r = run(full_policy("c-files", {"/bin/sh", "-c",
                                          "probe exists /work; probe exists /usr; cat /proc/mounts"}),
                  squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.out.find("exists /work no\nexists /usr no\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(images()->dir), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(images()->cache), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/dev/loop"), std::string::npos);
  EXPECT_NE(r.out.find(" / squashfs ro,"), std::string::npos) << r.out;
}

// A kernel without CONFIG_MODULES refuses module loading to everyone.
std::string module_refusal() {
  errno = 0;
  ::syscall(SYS_init_module, nullptr, 0, "");
  return errno == ENOSYS ? "ENOSYS" : "EPERM";
}

TEST(Containment, CannotMountLoadModulesSetTimeRebootPtraceOrRaiseCaps) {
  NESTBOX_NEED_IMAGES();
  Outcome r = run(full_policy("c-escape", {"/bin/probe", "escape"}), squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "mount EPERM\numount EPERM\nmodule " + module_refusal() +
                       "\nsettime EPERM\nreboot EPERM\n"
                       "ptrace EPERM\nmknod EPERM\ncapset EPERM\nsethostname EPERM\n");
}

TEST(Containment, EvenWithAllCapsTheUserNamespaceOwnsNothing) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("c-allcaps", {"/bin/probe", "escape"});
  p.caps.keep = ~uint64_t(0);
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  // Root of a user namespace that owns none of the other namespaces.
  EXPECT_NE(r.out.find("mount EPERM\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("module " + module_refusal() + "\n"), std::string::npos);
  EXPECT_NE(r.out.find("ptrace EPERM\n"), std::string::npos);  // init is not dumpable
  EXPECT_NE(r.out.find("settime EPERM\n"), std::string::npos);
  EXPECT_NE(r.out.find("sethostname EPERM\n"), std::string::npos);
}

TEST(Containment, RootOnlyInsideTheUserNamespace) {
  NESTBOX_NEED_IMAGES();
  Outcome r = run(full_policy("c-uid", {"/bin/probe", "id"}), squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.out.find("uid 0 gid 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapEff:\t0000000000000000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapBnd:\t0000000000000000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NoNewPrivs:\t1\n"), std::string::npos) << r.out;
}

TEST(Containment, HostSeesTheMappedUid) {
  NESTBOX_NEED_IMAGES();
  // The container writes its host-visible identity through /proc of the host? No:
  // run it in a forked launcher and look at it from here.
  std::string state = images()->state_root + "/c-hostuid";
  pid_t launcher = ::fork();
  if (launcher == 0) {
    Outcome r = run(full_policy("c-hostuid", {"/bin/probe", "sleep"}), squashfs_source());
    ::_exit(r.ok ? r.result.exit_code : 100);
  }
  std::string init;
  for (int i = 0; i < 300 && init.empty(); ++i) {
    ::usleep(10000);
    auto f = read_file(state + "/init");
    if (f.ok()) init = f->substr(0, f->find('\n'));
  }
  ASSERT_FALSE(init.empty());
  std::string children;
  for (int i = 0; i < 300 && children.empty(); ++i) {
    ::usleep(10000);
    children = sh("cat /proc/" + init + "/task/" + init + "/children");
  }
  std::string main = children.substr(0, children.find(' '));
  std::string status = sh("grep -E '^(Uid|Gid):' /proc/" + main + "/status");
  EXPECT_EQ(status, "Uid:\t100000\t100000\t100000\t100000\nGid:\t100000\t100000\t100000\t100000\n");
  ::kill(launcher, SIGTERM);
  int st = 0;
  ::waitpid(launcher, &st, 0);
  EXPECT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 143);  // the probe's SIGTERM handler
  EXPECT_EQ(leftovers("c-hostuid"), std::vector<std::string>{});
}

TEST(Containment, ReadOnlyRootAndNoexecTmpfs) {
  NESTBOX_NEED_IMAGES();
  Outcome r = run(full_policy("c-ro", {"/bin/sh", "-c",
                                       "probe write /etc/x; probe write /tmp/x; cp /bin/probe /tmp/p;"
                                       " /tmp/p id || echo noexec"}),
                  squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.out.find("write /etc/x EROFS\nwrite /tmp/x ok\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("noexec\n"), std::string::npos) << r.out;
}

TEST(Containment, MemoryLimitKillsInsideAndIsReported) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("c-oom", {"/bin/probe", "alloc", "512"});
  p.cgroups.memory_max = 32 << 20;
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result.exit_code, 128 + SIGKILL);
  EXPECT_TRUE(r.result.oom_killed);
  EXPECT_EQ(r.out.find("allocated"), std::string::npos);
  EXPECT_EQ(leftovers("c-oom"), std::vector<std::string>{});
}

TEST(Containment, ForkBombStopsAtThePidsLimit) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("c-fork", {"/bin/probe", "forkbomb"});
  p.cgroups.pids_max = 20;
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  // 20 tasks: nestbox-init, the probe and 18 children.
  EXPECT_EQ(r.out, "forks 18 EAGAIN\n");
  EXPECT_EQ(leftovers("c-fork"), std::vector<std::string>{});
}

// Review 8: a policy without pids_max had no process limit at all, and a
// zero-capability container forked until the host's pid_max (32768 here and
// on a router): nothing on the host could fork. It gets kDefaultPidsMax.
// The memory limit is there only so that the test, run without the default,
// ends at memory (about 2500 processes here) rather than at the host's pids.
TEST(Containment, ForkBombWithoutAPidsLimitStopsAtTheDefault) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("c-fork-default", {"/bin/probe", "forkbomb"});
  p.cgroups.pids_max = 0;
  p.cgroups.memory_max = 128 << 20;
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  // nestbox-init, the probe and the children it forked.
  EXPECT_EQ(r.out, "forks " + std::to_string(kDefaultPidsMax - 2) + " EAGAIN\n");
  EXPECT_EQ(leftovers("c-fork-default"), std::vector<std::string>{});
}

// Review 8: the kernel counts some things per user (inotify instances, 128
// by default; fanotify groups; user namespaces) and charges what is made in
// a user namespace to the namespace's owner as well. Made by the root
// launcher, a container's namespace put every instance its app made on the
// host's uid 0: holding 128, it left none to any root process of the host.
TEST(Containment, AUserNamespaceSpendsNoneOfTheHostRootsInotifyInstances) {
  NESTBOX_NEED_IMAGES();
  Background bg(full_policy("c-inotify", {"/bin/probe", "inotify"}));
  ASSERT_TRUE(bg.wait_for(" EMFILE\n")) << bg.output();
  int fd = ::inotify_init1(IN_CLOEXEC);
  int error = errno;
  if (fd >= 0) ::close(fd);
  EXPECT_GE(fd, 0) << "the host's root can make no inotify instance (" << strerrorname_np(error)
                   << ") while the container holds " << bg.output();
  ASSERT_TRUE(stop_container(images()->state_root, "c-inotify", 5000).ok());
  bg.finish();
  EXPECT_EQ(leftovers("c-inotify"), std::vector<std::string>{});
}

TEST(Containment, DeniedSyscallGetsItsErrnoOrKills) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("c-seccomp", {"/bin/sh", "-c", "probe id; probe getpriority"});
  p.seccomp.bpf = test_seccomp_bpf();
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.out.find("Seccomp:\t2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("getpriority -1 EACCES\n"), std::string::npos) << r.out;

  p.process.argv = {"/bin/probe", "getpgid"};
  r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result.exit_code, 128 + SIGSYS);
  EXPECT_EQ(r.out, "");
}

TEST(Containment, SeccompWithoutNoNewPrivs) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("c-seccomp-nnp", {"/bin/probe", "getpriority"});
  p.seccomp.bpf = test_seccomp_bpf();
  p.no_new_privs = false;
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "getpriority -1 EACCES\n");
}

// A setuid-root program in the image (here the probe, 4755 root) makes a
// process without no_new_privs the host's uid 0 when the container has no
// user namespace: the bounding set keeps capabilities away, not the uid, and
// /sys's 0644 root-owned knobs (like ubusd's ACL) ask for the uid alone. Such
// a process gets neither a writable /sys nor the ubus socket; with
// no_new_privs the setuid bit does nothing and the same write is refused.
TEST(Containment, ASetuidProgramCannotMakeTheHostsRootOfAWritableSys) {
  NESTBOX_NEED_IMAGES();
  const char* knob = "/sys/kernel/mm/ksm/sleep_millisecs";  // root's, 0644, no capability checked
  if (::access(knob, F_OK) != 0) GTEST_SKIP() << "no " << knob << " (CONFIG_KSM)";
  std::string tree = images()->dir + "/suid-tree", sqfs = images()->dir + "/suid.sqfs";
  sh("rm -rf " + tree + " " + sqfs + " && mkdir -p " + tree + "/bin " + tree + "/proc " + tree + "/sys " + tree +
     "/dev " + tree + "/tmp && cp " NESTBOX_PROBE " " + tree + "/bin/probe && cp " NESTBOX_PROBE " " + tree +
     "/bin/suidprobe && chmod 4755 " + tree + "/bin/suidprobe && mksquashfs " + tree + " " + sqfs +
     " -noappend -quiet -no-progress -all-root -processors 1 >/dev/null && echo made");
  ASSERT_EQ(::access(sqfs.c_str(), F_OK), 0);
  RootfsSource src;
  src.kind = RootfsSource::Kind::kSquashfs;
  src.image.path = sqfs;

  policy::Policy p = full_policy("c-suid-sys", {"/bin/suidprobe", "open", knob});
  p.namespaces[policy::kNsUser] = {policy::NsMode::kHost, ""};
  p.uid_map.clear();
  p.gid_map.clear();
  p.process.uid = p.process.gid = 1000;
  p.sys = policy::SysMode::kReadWrite;
  p.no_new_privs = false;
  Outcome r = run(p, src);
  EXPECT_FALSE(r.ok) << r.out;  // before: "open ... read ok write ok", the probe ran as euid 0
  EXPECT_NE(r.error.find("a writable /sys for a process that is or can become the host's root"), std::string::npos)
      << r.error;
  p.no_new_privs = true;
  p.caps.keep = uint64_t{1} << CAP_SETUID;  // setuid(0) needs no program at all
  r = run(p, src);
  EXPECT_FALSE(r.ok) << r.out;
  p.caps.keep = 0;
  p.sys = policy::SysMode::kReadOnly;
  p.no_new_privs = false;
  p.ipc.ubus_socket = "/run/ubus.sock";  // refused before anything is bound
  p.ipc.ubus_target = "/tmp/ubus.sock";
  r = run(p, src);
  EXPECT_FALSE(r.ok) << r.out;
  EXPECT_NE(r.error.find("the ubus socket for a process that is or can become the host's root"), std::string::npos)
      << r.error;
  EXPECT_TRUE(leftovers("c-suid-sys").empty());

  // no_new_privs: the setuid bit is not honoured, the knob stays root's.
  p.ipc = {};
  p.sys = policy::SysMode::kReadWrite;
  p.no_new_privs = true;
  r = run(p, src);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, std::string("open ") + knob + " read ok write EACCES\n");
}

// Review 6 (lead a): /sys has files the root *group* may write, not only its
// owner (a PCI device's `remove`, 0220 root:root: the router's NIC gone). A
// process in the host's gid 0 (its gid, a supplementary group, or setgid(0)
// with CAP_SETGID) opened them for writing with a writable /sys; it counts as
// the host's root now (util/host_root.h). The probe opens, never writes.
TEST(Containment, TheHostsRootGroupGetsNoWritableSys) {
  NESTBOX_NEED_IMAGES();
  std::string knob = sh("find /sys/devices -xdev -group 0 -perm -g+w ! -perm -o+w -type f 2>/dev/null | head -1");
  if (!knob.empty()) knob.pop_back();
  if (knob.empty()) GTEST_SKIP() << "no root-group-writable /sys file here";
  policy::Policy p = full_policy("c-gid0-sys", {"/bin/probe", "open", knob});
  p.namespaces[policy::kNsUser] = {policy::NsMode::kHost, ""};
  p.uid_map.clear();
  p.gid_map.clear();
  p.process.uid = 1000;
  p.process.gid = 0;
  p.sys = policy::SysMode::kReadWrite;
  p.no_new_privs = true;
  const char* refused = "a writable /sys for a process that is or can become the host's root";
  Outcome r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << r.out;  // before: "open KNOB read EACCES write ok"
  EXPECT_NE(r.error.find(refused), std::string::npos) << r.error;
  p.process.gid = 1000;
  p.process.groups = {0};
  r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << r.out;
  p.process.groups.clear();
  p.caps.keep = uint64_t{1} << CAP_SETGID;  // setgid(0) needs no program
  r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << r.out;
  p.caps.keep = 0;
  r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "open " + knob + " read EACCES write EACCES\n");
  EXPECT_TRUE(leftovers("c-gid0-sys").empty());
}

// Review 6 (CVE-2019-5736 class): pid 1 in the container is nestbox-launch's
// own code (not exec'd). Its /proc/1/exe would be the launcher's binary, to
// reopen for writing once it is no longer running. The init is not dumpable
// and keeps CAP_KILL, which the container's process lacks: either stops even
// the host's uid 0 without a user namespace from opening or resolving it.
TEST(Containment, TheLaunchersBinaryIsNotReachableThroughTheInit) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy(
      "c-init-exe", {"/bin/sh", "-c", "ls /proc/1/exe >/dev/null 2>&1 && cat /proc/1/exe >/dev/null 2>&1 && "
                                      "echo opened || echo refused; ls /proc/1/root/ 2>/dev/null | wc -l"});
  p.namespaces[policy::kNsUser] = {policy::NsMode::kHost, ""};
  p.uid_map.clear();
  p.gid_map.clear();
  p.process.uid = p.process.gid = 0;
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "refused\n0\n");
}

TEST(Containment, HostnameDomainnameAndEmptyNetwork) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("c-uts", {"/bin/sh", "-c", "probe uts; cat /sys/class/net/lo/operstate; ls /sys/class/net"});
  p.domainname = "example.lan";
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "host c-uts-host domain example.lan\nunknown\nlo\n");
}

TEST(Containment, NetworkHookRunsBeforeTheContainerContinues) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("c-net", {"/bin/sh", "-c", "ls /sys/class/net"});
  p.net = policy::NetMode::kInterfaces;
  Options o = test_options();
  int seen_pid = 0;
  o.network_setup = [&](const policy::Policy&, int pid) -> Status {
    seen_pid = pid;
    // Both ends inside the container's namespace: the host's stay untouched.
    std::string cmd = "nsenter -t " + std::to_string(pid) +
                      " -n ip link add nb0 type veth peer name nb1 2>&1";
    std::string out = sh(cmd);
    if (!out.empty()) return failure(out);
    return {};
  };
  Outcome r = run(p, squashfs_source(), o);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_GT(seen_pid, 0);
  EXPECT_EQ(r.out, "lo\nnb0\nnb1\n");

  o.network_setup = [](const policy::Policy&, int) -> Status { return failure("no bridge br-lan"); };
  r = run(p, squashfs_source(), o);
  EXPECT_EQ(r.error, "network: no bridge br-lan");
  EXPECT_EQ(leftovers("c-net"), std::vector<std::string>{});
  o.network_setup = nullptr;  // fail closed: never run without the network the policy asks for
  r = run(p, squashfs_source(), o);
  EXPECT_EQ(r.error, "policy c-net needs network interfaces, but this launcher has no network setup");
}

// network_teardown: once per successful network_setup, after the container's
// processes are gone and while the state directory (what `stop` waits for) is
// still there; on a normal exit and on a failure later in the launch; never
// when the setup itself failed.
TEST(Containment, NetworkTeardownFollowsASuccessfulSetupBeforeTheStateGoes) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("c-nettd", {"/bin/true"});
  p.net = policy::NetMode::kInterfaces;
  Options o = test_options();
  const std::string state = o.state_root + "/c-nettd";
  int pid = 0, calls = 0;
  bool state_there = false, container_gone = false;
  o.network_setup = [&](const policy::Policy&, int child) -> Status {
    pid = child;
    return {};
  };
  o.network_teardown = [&] {
    ++calls;
    state_there = ::access(state.c_str(), F_OK) == 0;
    container_gone = ::kill(pid, 0) != 0 && errno == ESRCH;
  };
  Outcome r = run(p, squashfs_source(), o);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(state_there);
  EXPECT_TRUE(container_gone);

  policy::Policy bad = p;  // fails after the network step
  policy::Mount m;
  m.kind = policy::MountKind::kTmpfs;
  m.target = "/nonexistent";
  bad.mounts.push_back(m);
  calls = 0;
  r = run(bad, squashfs_source(), o);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(state_there);
  EXPECT_TRUE(container_gone);

  calls = 0;
  o.network_setup = [](const policy::Policy&, int) -> Status { return failure("no bridge"); };
  r = run(p, squashfs_source(), o);
  EXPECT_EQ(r.error, "network: no bridge");
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(leftovers("c-nettd"), std::vector<std::string>{});
}

TEST(Containment, CapabilityKeepListAndUidChange) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("c-caps", {"/bin/probe", "id"});
  p.caps.keep = (uint64_t(1) << 10) | (uint64_t(1) << 13);  // NET_BIND_SERVICE, NET_RAW
  p.process.uid = 1000;
  p.process.gid = 1000;
  p.rlimits = {{7 /* RLIMIT_NOFILE */, 64, 128}};
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.out.find("uid 1000 gid 1000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapEff:\t0000000000002400\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapAmb:\t0000000000002400\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapBnd:\t0000000000002400\n"), std::string::npos) << r.out;

  p.process.argv = {"/bin/probe", "rlimit"};
  r = run(p, squashfs_source());
  EXPECT_EQ(r.out, "nofile 64 128\n");
}

}  // namespace
}  // namespace nestbox::launcher::testing
