// A running container from outside: list/status (--json), freeze/thaw, exec,
// joining its namespaces, stop (graceful and forced), and the CLI front end.
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <gtest/gtest.h>

#include "launcher/lifecycle.h"
#include "tests/launcher/support.h"
#include "util/file_io.h"

namespace nestbox::launcher::testing {
namespace {

// A launcher running in a forked process (it blocks while the container runs).

// `nestbox-launch COMMAND --state-dir ROOT ARGS` with stderr and the exit status.
std::string launch_cli(const std::string& command_and_args) {
  std::string command = command_and_args.substr(0, command_and_args.find(' '));
  std::string args = command_and_args.substr(command.size());
  return sh(std::string(NESTBOX_LAUNCH) + " " + command + " --state-dir " + images()->state_root +
            args + " 2>&1; echo \"exit $?\"");
}

TEST(Lifecycle, StatusListFreezeThawStop) {
  NESTBOX_NEED_IMAGES();
  Background bg(full_policy("l-basic", {"/bin/probe", "sleep"}));
  ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();

  auto list = list_containers(images()->state_root);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  const ContainerStatus& s = (*list)[0];
  EXPECT_EQ(s.name, "l-basic");
  EXPECT_EQ(s.state, "running");
  EXPECT_EQ(launch_cli("list"), "NAME                 STATE    INIT_PID  SLOTS (version, * active)\n"
                                "l-basic              running  " + std::to_string(s.init_pid) + "\nexit 0\n");
  std::string json = launch_cli("status l-basic --json");
  EXPECT_EQ(json.rfind("{\"name\":\"l-basic\",\"state\":\"running\",\"pid\":" + std::to_string(s.launcher_pid) +
                           ",\"init_pid\":" + std::to_string(s.init_pid) + ",\"cgroups\":[\"",
                       0),
            0u)
      << json;

  EXPECT_EQ(launch_cli("freeze l-basic"), "exit 0\n");
  EXPECT_EQ(container_status(images()->state_root, "l-basic")->state, "frozen");
  // The kernel reports the whole cgroup frozen (every task stopped).
  std::string unified = sh("find /sys/fs/cgroup/unified -maxdepth 3 -type d -name nestbox-l-basic");
  std::string freezer = sh("find /sys/fs/cgroup/freezer -maxdepth 3 -type d -name nestbox-l-basic");
  unified = unified.substr(0, unified.find('\n'));
  freezer = freezer.substr(0, freezer.find('\n'));
  if (!unified.empty())
    EXPECT_NE(sh("cat " + unified + "/cgroup.events").find("frozen 1"), std::string::npos);
  else
    EXPECT_EQ(sh("cat " + freezer + "/freezer.state"), "FROZEN\n");
  EXPECT_EQ(launch_cli("thaw l-basic"), "exit 0\n");
  EXPECT_EQ(container_status(images()->state_root, "l-basic")->state, "running");

  EXPECT_EQ(launch_cli("stop l-basic"), "exit 0\n");
  EXPECT_EQ(bg.finish(), 143);  // the probe's own SIGTERM handler ran
  EXPECT_EQ(bg.output(), "sleeping\ngot SIGTERM\n");
  EXPECT_EQ(leftovers("l-basic"), std::vector<std::string>{});
  EXPECT_EQ(launch_cli("status l-basic"), "nestbox-launch status: container 'l-basic' is not running\nexit 1\n");
}

TEST(Lifecycle, StopKillsWhatIgnoresSigterm) {
  NESTBOX_NEED_IMAGES();
  Options o = test_options();
  o.stop_timeout_ms = 200;
  Background bg(full_policy("l-stubborn", {"/bin/sh", "-c", "probe stubborn & exec probe stubborn"}), o);
  ASSERT_TRUE(bg.wait_for("stubborn\nstubborn\n")) << bg.output();
  ASSERT_TRUE(stop_container(images()->state_root, "l-stubborn", 5000).ok());
  EXPECT_EQ(bg.finish(), 128 + SIGKILL);
  EXPECT_EQ(leftovers("l-stubborn"), std::vector<std::string>{});
}

TEST(Lifecycle, StopOfAFrozenContainerKillsIt) {
  NESTBOX_NEED_IMAGES();
  Options o = test_options();
  o.stop_timeout_ms = 200;
  Background bg(full_policy("l-frozen", {"/bin/probe", "sleep"}), o);
  ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
  ASSERT_TRUE(freeze_container(images()->state_root, "l-frozen", true).ok());
  // SIGTERM cannot be handled while frozen: after the timeout everything is killed.
  ASSERT_TRUE(stop_container(images()->state_root, "l-frozen", 5000).ok());
  EXPECT_EQ(bg.finish(), 128 + SIGKILL);
  EXPECT_EQ(leftovers("l-frozen"), std::vector<std::string>{});
}

TEST(Lifecycle, KilledLauncherTakesTheContainerWithItAndTheNextLaunchRecovers) {
  NESTBOX_NEED_IMAGES();
  {
    Background bg(full_policy("l-killed", {"/bin/probe", "sleep"}));
    ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
  }  // SIGKILL to the launcher: no cleanup code of its own runs
  // The container dies with it (parent-death signal), and with it its mount
  // namespace and loop device; only the empty cgroup and state dir remain.
  std::vector<std::string> left;
  for (int i = 0; i < 200; ++i, ::usleep(10000)) {
    left = leftovers("l-killed");
    bool only_dirs = true;
    for (const std::string& l : left) only_dirs &= l.rfind("cgroup", 0) == 0 || l == "state dir";
    if (only_dirs) break;
  }
  for (const std::string& l : left) EXPECT_TRUE(l.rfind("cgroup", 0) == 0 || l == "state dir") << l;
  EXPECT_FALSE(container_status(images()->state_root, "l-killed").ok());  // not running
  Outcome r = run(full_policy("l-killed", {"/bin/true"}), squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(leftovers("l-killed"), std::vector<std::string>{});
}

TEST(Lifecycle, ExecJoinsEveryNamespaceWithTheSameRestrictions) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("l-exec", {"/bin/probe", "sleep"});
  p.seccomp.bpf = test_seccomp_bpf();
  Background bg(p);
  ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
  std::string main = bg.main_pid();
  std::string host_view;
  for (const char* ns : {"mnt", "uts", "ipc", "pid", "net", "user", "cgroup"})
    host_view += sh(std::string("readlink /proc/") + main + "/ns/" + ns);

  auto exec = [&](std::vector<std::string> argv) {
    FILE* out = std::tmpfile();
    ExecRequest req;
    req.argv = std::move(argv);
    req.stdout_fd = req.stderr_fd = ::fileno(out);
    auto code = exec_in_container(images()->state_root, "l-exec", req);
    std::string text;
    std::rewind(out);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, out)) > 0) text.append(buf, n);
    std::fclose(out);
    return std::make_pair(code.ok() ? *code : -1, text);
  };
  auto [code, ns] = exec({"/bin/probe", "ns"});
  EXPECT_EQ(code, 0);
  EXPECT_EQ(ns, host_view);
  auto [code2, id] = exec({"/bin/probe", "id"});
  EXPECT_NE(id.find("uid 0 gid 0\n"), std::string::npos) << id;
  EXPECT_NE(id.find("CapEff:\t0000000000000000\n"), std::string::npos) << id;
  EXPECT_NE(id.find("Seccomp:\t2\n"), std::string::npos) << id;
  auto [code3, denied] = exec({"/bin/probe", "getpriority"});
  EXPECT_EQ(denied, "getpriority -1 EACCES\n");
  auto [code4, pids] = exec({"/bin/probe", "pids"});
  EXPECT_EQ(pids.rfind("pids 1 2 ", 0), 0u) << pids;  // init, the main process, this one
  EXPECT_EQ(std::count(pids.begin(), pids.end(), ' '), 3) << pids;
  EXPECT_EQ(bg.output(), "sleeping\n");
  std::string cgroup_dir = sh("find /sys/fs/cgroup/pids -maxdepth 3 -type d -name nestbox-l-exec");
  ASSERT_FALSE(cgroup_dir.empty());
  EXPECT_EQ(launch_cli("exec l-exec -- /bin/probe uts"), "host l-exec-host domain (none)\nexit 0\n");
  EXPECT_EQ(launch_cli("exec l-exec -- /bin/missing"),
            "nestbox-launch exec: exec /bin/missing: No such file or directory\nexit 127\n");
  ASSERT_TRUE(stop_container(images()->state_root, "l-exec", 5000).ok());
  bg.finish();
  EXPECT_EQ(leftovers("l-exec"), std::vector<std::string>{});
}

TEST(Lifecycle, JoinsAnotherContainersNamespaces) {
  NESTBOX_NEED_IMAGES();
  Background a(full_policy("l-join-a", {"/bin/probe", "sleep"}));
  ASSERT_TRUE(a.wait_for("sleeping\n")) << a.output();
  policy::Policy p = full_policy("l-join-b", {"/bin/probe", "ns"});
  p.namespaces[policy::kNsNet] = {policy::NsMode::kJoin, "l-join-a"};
  p.namespaces[policy::kNsUts] = {policy::NsMode::kJoin, "l-join-a"};
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  std::string main = a.main_pid();
  EXPECT_NE(r.out.find(sh("readlink /proc/" + main + "/ns/net")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(sh("readlink /proc/" + main + "/ns/uts")), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(sh("readlink /proc/" + main + "/ns/ipc")), std::string::npos) << r.out;

  p.name = "l-join-c";
  p.namespaces[policy::kNsNet] = {policy::NsMode::kJoin, "l-nobody"};
  r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "join net namespace: container 'l-nobody' is not running");
  ASSERT_TRUE(stop_container(images()->state_root, "l-join-a", 5000).ok());
  a.finish();
}

// Review 5, class 2: a container that joins another's pid namespace has an
// init that is itself in the host's (setns moves only its children). `exec`
// and health checks joined the init's ns/pid, so the command ran in the
// host's pid namespace: as uid 0 without a user namespace and with no
// capability it killed a root process of the host (kill -1: all of them).
// They now join the namespace the container's processes are in.
TEST(Lifecycle, ExecIntoAContainerThatJoinedAPidNamespaceStaysInIt) {
  NESTBOX_NEED_IMAGES();
  Background a(full_policy("l-pidjoin-a", {"/bin/probe", "sleep"}));
  ASSERT_TRUE(a.wait_for("sleeping\n")) << a.output();
  policy::Policy p = full_policy("l-pidjoin-b", {"/bin/probe", "sleep"});
  p.namespaces[policy::kNsPid] = {policy::NsMode::kJoin, "l-pidjoin-a"};
  p.namespaces[policy::kNsMount] = {policy::NsMode::kJoin, "l-pidjoin-a"};
  p.namespaces[policy::kNsUser] = {policy::NsMode::kHost, ""};  // uid 0, no capability
  p.uid_map.clear();
  p.gid_map.clear();
  Background b(p);
  ASSERT_TRUE(b.wait_for("sleeping\n")) << b.output();
  pid_t victim = ::fork();  // a root process of the host's
  if (victim == 0) {
    ::pause();
    ::_exit(0);
  }
  std::string v = std::to_string(victim);
  EXPECT_EQ(launch_cli("exec l-pidjoin-b -- /bin/sh -c 'kill -0 " + v + " 2>/dev/null && echo reached || echo unseen'"),
            "unseen\nexit 0\n");
  EXPECT_EQ(::kill(victim, 0), 0);  // alive
  // The command is in l-pidjoin-a's pid namespace, with its processes.
  std::string pids = launch_cli("exec l-pidjoin-b -- /bin/sh -c 'echo $$'");
  EXPECT_LT(std::atoi(pids.c_str()), 10) << pids;
  ::kill(victim, SIGKILL);
  ::waitpid(victim, nullptr, 0);
  ASSERT_TRUE(stop_container(images()->state_root, "l-pidjoin-b", 5000).ok());
  b.finish();
  ASSERT_TRUE(stop_container(images()->state_root, "l-pidjoin-a", 5000).ok());
  a.finish();
  EXPECT_EQ(leftovers("l-pidjoin-a"), std::vector<std::string>{});
  EXPECT_EQ(leftovers("l-pidjoin-b"), std::vector<std::string>{});
}

// A container in the host's pid namespace (with a user namespace that maps
// no id to host uid 0, as check_policy requires) passes that namespace on to
// one that joins it: the joiner, uid 0 without a user namespace, would be in
// the host's pid namespace with no such map. Refused like pid = "host".
TEST(Lifecycle, JoiningAPidNamespaceThatIsTheHostsNeedsWhatHostNeeds) {
  NESTBOX_NEED_IMAGES();
  policy::Policy host = full_policy("l-hostpid-a", {"/bin/probe", "sleep"});
  host.namespaces[policy::kNsPid] = {policy::NsMode::kHost, ""};
  host.proc = false;  // /proc needs a pid namespace of its own
  Background a(host);
  ASSERT_TRUE(a.wait_for("sleeping\n")) << a.output();
  policy::Policy p = full_policy("l-hostpid-b", {"/bin/sh", "-c", "echo $$"});
  p.namespaces[policy::kNsPid] = {policy::NsMode::kJoin, "l-hostpid-a"};
  p.namespaces[policy::kNsMount] = {policy::NsMode::kJoin, "l-hostpid-a"};
  p.namespaces[policy::kNsUser] = {policy::NsMode::kHost, ""};
  p.uid_map.clear();
  p.gid_map.clear();
  Outcome r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << r.out;  // before: ran, its pid the host's
  EXPECT_EQ(r.error, "policy l-hostpid-b: joins the pid namespace of 'l-hostpid-a', which is the host's: that needs "
                     "a new user namespace that does not map host uid 0 (the container could signal the launcher and "
                     "other containers)");
  ASSERT_TRUE(stop_container(images()->state_root, "l-hostpid-a", 5000).ok());
  a.finish();
  // In the host's pid namespace no namespace teardown takes the processes
  // with the init: they end just after the launcher returns.
  for (int i = 0; i < 50 && !leftovers("l-hostpid-a").empty(); ++i) ::usleep(100000);
  EXPECT_EQ(leftovers("l-hostpid-a"), std::vector<std::string>{});
  EXPECT_EQ(leftovers("l-hostpid-b"), std::vector<std::string>{});
}

// A host process standing in for whatever process got the number of a
// container's init after the init was reaped: the test's own child, in the
// test's (the host's) namespaces.
struct HostProcess {
  pid_t pid = ::fork();
  HostProcess() {
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
  }
  ~HostProcess() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

// What pid reuse does to a state directory's view: "init" and the namespace
// links now name the host process.
void point_state_at(const std::string& dir, pid_t pid) {
  ASSERT_TRUE(write_file_atomic(dir + "/init", std::to_string(pid) + "\n").ok());
  for (const char* ns : {"mnt", "uts", "ipc", "pid", "net", "user", "cgroup"}) {
    std::string link = dir + "/ns/" + ns;
    ::unlink(link.c_str());
    ASSERT_EQ(::symlink(("/proc/" + std::to_string(pid) + "/ns/" + ns).c_str(), link.c_str()), 0);
  }
}

TEST(Lifecycle, ExecNeverJoinsAProcessThatReusedTheInitsPid) {
  NESTBOX_NEED_IMAGES();
  Background bg(full_policy("l-reused", {"/bin/probe", "sleep"}));
  ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
  std::string dir = images()->state_root + "/l-reused";
  std::string init = sh("cat " + dir + "/init");
  ASSERT_EQ(sh("cat " + dir + "/init_start"), sh("cut -d')' -f2 /proc/" + init.substr(0, init.size() - 1) +
                                                 "/stat | awk '{print $20}'"));
  HostProcess host;
  point_state_at(dir, host.pid);
  // The launcher still holds the lock: only the start time tells the init
  // from the host process, and exec must not run in the host's namespaces.
  EXPECT_EQ(launch_cli("exec l-reused -- /bin/probe ns"),
            "nestbox-launch exec: container 'l-reused': its init (pid " + std::to_string(host.pid) +
                ") has exited\nexit 1\n");
  ASSERT_TRUE(stop_container(images()->state_root, "l-reused", 5000).ok());
  bg.finish();
  EXPECT_EQ(leftovers("l-reused"), std::vector<std::string>{});
}

TEST(Lifecycle, JoinNeverFollowsAStaleStateToAHostProcess) {
  NESTBOX_NEED_IMAGES();
  // A launcher killed with SIGKILL leaves its state directory; its init's pid
  // then names another process. Even with the start time recorded right for
  // that process, the free lock says the container is gone.
  HostProcess host;
  std::string dir = images()->state_root + "/l-stale";
  ASSERT_EQ(sh("mkdir -p " + dir + "/ns && touch " + dir + "/lock && echo ok"), "ok\n");
  point_state_at(dir, host.pid);
  auto started = sh("cut -d')' -f2 /proc/" + std::to_string(host.pid) + "/stat | awk '{print $20}'");
  ASSERT_TRUE(write_file_atomic(dir + "/init_start", started).ok());
  policy::Policy p = full_policy("l-stale-joiner", {"/bin/probe", "ns"});
  p.namespaces[policy::kNsNet] = {policy::NsMode::kJoin, "l-stale"};
  Outcome r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << r.out;
  EXPECT_EQ(r.error, "join net namespace: container 'l-stale' is not running");
  EXPECT_EQ(r.out.find(sh("readlink /proc/self/ns/net")), std::string::npos) << r.out;
  sh("rm -rf " + dir);
  EXPECT_EQ(leftovers("l-stale-joiner"), std::vector<std::string>{});
}

TEST(Lifecycle, PureCgroupV1HostFreezesWithTheFreezerController) {
  NESTBOX_NEED_IMAGES();
  // The launcher runs in its own mount namespace without the cgroup2 mount:
  // the cgroup is then v1 only (freezer + pids + memory hierarchies).
  std::string out = images()->dir + "/v1.out";
  pid_t launcher = ::fork();
  if (launcher == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount("", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      ::_exit(101);
    ::umount2("/sys/fs/cgroup/unified", MNT_DETACH);
    FILE* f = std::fopen(out.c_str(), "w");
    Options o = test_options();
    o.stdout_fd = o.stderr_fd = ::fileno(f);
    policy::Policy p = full_policy("l-v1", {"/bin/probe", "sleep"});
    p.cgroups.memory_max = 64 << 20;
    auto r = run_container(p, squashfs_source(), o);
    if (!r.ok()) std::fprintf(f, "launcher error: %s\n", r.error().message.c_str());
    std::fflush(f);
    ::_exit(r.ok() ? r->exit_code : 100);
  }
  std::string link = images()->state_root + "/l-v1/ns/cgroup";
  for (int i = 0; i < 500 && ::access(link.c_str(), F_OK) != 0; ++i) ::usleep(10000);
  auto status = container_status(images()->state_root, "l-v1");
  ASSERT_TRUE(status.ok()) << status.error().message << sh("cat " + out);
  std::string freezer;
  for (const std::string& c : status->cgroups) {
    EXPECT_EQ(c.find("/unified/"), std::string::npos) << c;
    if (c.find("/freezer/") != std::string::npos) freezer = c;
  }
  ASSERT_FALSE(freezer.empty());
  ASSERT_TRUE(freeze_container(images()->state_root, "l-v1", true).ok());
  std::string state;
  for (int i = 0; i < 200 && state != "FROZEN\n"; ++i, ::usleep(5000)) state = sh("cat " + freezer + "/freezer.state");
  EXPECT_EQ(state, "FROZEN\n");
  EXPECT_EQ(container_status(images()->state_root, "l-v1")->state, "frozen");
  ASSERT_TRUE(freeze_container(images()->state_root, "l-v1", false).ok());
  EXPECT_EQ(sh("cat " + freezer + "/freezer.state"), "THAWED\n");
  ASSERT_TRUE(stop_container(images()->state_root, "l-v1", 5000).ok());
  int st = 0;
  ::waitpid(launcher, &st, 0);
  EXPECT_EQ(WEXITSTATUS(st), 143) << sh("cat " + out);
  EXPECT_EQ(leftovers("l-v1"), std::vector<std::string>{});
}

TEST(Lifecycle, LimitsAreWrittenToTheCgroup) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("l-limits", {"/bin/probe", "sleep"});
  p.cgroups.memory_max = 48 << 20;
  p.cgroups.cpu_weight = 100;  // v2 default weight → v1 shares 2 + 99 * 262142 / 9999
  p.cgroups.cpu_quota_us = 50000;
  p.cgroups.cpu_period_us = 100000;
  p.cgroups.pids_max = 33;
  p.cgroups.cpuset_cpus = "0";
  bool memsw = ::access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
  if (memsw) p.cgroups.memory_swap_max = 16 << 20;
  Background bg(p);
  ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
  auto status = container_status(images()->state_root, "l-limits");
  ASSERT_TRUE(status.ok());
  auto file = [&](const std::string& controller, const std::string& name) {
    for (const std::string& c : status->cgroups)
      if (c.find("/" + controller + "/") != std::string::npos) return sh("cat " + c + "/" + name + " 2>/dev/null");
    return std::string("no " + controller + " cgroup");
  };
  EXPECT_EQ(file("memory", "memory.limit_in_bytes"), std::to_string(48 << 20) + "\n");
  if (memsw) {
    EXPECT_EQ(file("memory", "memory.memsw.limit_in_bytes"), std::to_string(64 << 20) + "\n");
  }
  EXPECT_EQ(file("cpu", "cpu.shares"), "2597\n");
  EXPECT_EQ(file("cpu", "cpu.cfs_quota_us"), "50000\n");
  EXPECT_EQ(file("cpu", "cpu.cfs_period_us"), "100000\n");
  EXPECT_EQ(file("pids", "pids.max"), "33\n");
  EXPECT_EQ(file("cpuset", "cpuset.cpus"), "0\n");
  EXPECT_NE(file("cpuset", "cgroup.procs"), "");  // the container is in every one
  ASSERT_TRUE(stop_container(images()->state_root, "l-limits", 5000).ok());
  bg.finish();
  EXPECT_EQ(leftovers("l-limits"), std::vector<std::string>{});
}

// Runs `f` with this process's stderr (where the launcher warns) going to *text.
template <typename F>
auto with_stderr_to(std::string* text, F f) {
  std::fflush(stderr);
  char path[] = "/tmp/nestbox-stderr-XXXXXX";
  int file = ::mkstemp(path);
  int saved = ::dup(2);
  ::dup2(file, 2);
  auto result = f();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(file);
  auto read = read_file(path);
  *text = read.ok() ? *read : "";
  ::unlink(path);
  return result;
}

// The disks' schedulers as `describe` words them ("vda: mq-deadline"), read
// here with the shell, and whether one of them honours cgroup v1 weights.
struct Disks {
  std::string listed;
  bool weighted = false;
};
Disks host_disks() {
  Disks d;
  std::string out = sh("for b in /sys/block/*; do [ -e $b/device ] && echo \"${b##*/} $(cat $b/queue/scheduler)\"; done | sort");
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::string disk = line.substr(0, line.find(' '));
    size_t open = line.find('['), close = line.find(']');
    std::string active = open == std::string::npos ? line.substr(disk.size() + 1) : line.substr(open + 1, close - open - 1);
    while (!active.empty() && active.back() == ' ') active.pop_back();
    d.listed += (d.listed.empty() ? "" : ", ") + disk + ": " + active;
    d.weighted |= active == "bfq" || active == "cfq";
  }
  return d;
}

// io_weight acts only where a scheduler honours it (this host: cgroup v1 blkio,
// so bfq). Where one does, the weight is written; where none does, the start is
// refused naming the disks' schedulers, or with io_weight_best_effort the
// container starts without it and a warning says why. Both kinds of host.
TEST(Lifecycle, IoWeightFollowsTheDisksScheduler) {
  NESTBOX_NEED_IMAGES();
  if (::access("/sys/fs/cgroup/blkio", F_OK) != 0) GTEST_SKIP() << "no cgroup v1 blkio hierarchy here";
  Disks disks = host_disks();
  policy::Policy p = full_policy("l-io", {"/bin/true"});
  p.cgroups.io_weight = 500;  // → v1 blkio weight 10 + 499 * 990 / 9999 = 59
  if (disks.weighted) {
    p.process.argv = {"/bin/probe", "sleep"};
    Background bg(p);
    ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
    auto status = container_status(images()->state_root, "l-io");
    ASSERT_TRUE(status.ok());
    std::string weight;
    for (const std::string& c : status->cgroups)
      if (c.find("/blkio/") != std::string::npos)
        weight = sh("cat " + c + "/blkio.weight 2>/dev/null || cat " + c + "/blkio.bfq.weight");
    EXPECT_EQ(weight, "59\n");
    ASSERT_TRUE(stop_container(images()->state_root, "l-io", 5000).ok());
    bg.finish();
  } else {
    Outcome refused = run(p, squashfs_source());
    EXPECT_FALSE(refused.ok);
    EXPECT_EQ(refused.error,
              "cgroup: io_weight: cannot be enforced on this host: cgroup v1 blkio weights need the bfq I/O "
              "scheduler, which no disk uses (" + disks.listed +
                  "); set cgroups.io_weight_best_effort = true to start without it");
    p.cgroups.io_weight_best_effort = true;
    std::string warned;
    Outcome started = with_stderr_to(&warned, [&] { return run(p, squashfs_source()); });
    EXPECT_TRUE(started.ok) << started.error;
    EXPECT_NE(warned.find("warning: io_weight 500 not enforced (io_weight_best_effort): cgroup v1 blkio "
                                  "weights need the bfq I/O scheduler, which no disk uses (" + disks.listed + ")"),
              std::string::npos)
        << warned;
  }
  EXPECT_EQ(leftovers("l-io"), std::vector<std::string>{});
}

TEST(Lifecycle, LimitThatCannotBeAppliedIsRefused) {
  NESTBOX_NEED_IMAGES();
  if (::access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) != 0)
    GTEST_SKIP() << "no cgroup v1 swap accounting here";
  policy::Policy p = full_policy("l-swap", {"/bin/true"});
  p.cgroups.memory_swap_max = 16 << 20;  // v1 can only cap memory + swap together
  Outcome r = run(p, squashfs_source());
  EXPECT_EQ(r.error, "cgroup: memory_swap_max needs memory_max on cgroup v1");
  EXPECT_EQ(leftovers("l-swap"), std::vector<std::string>{});
}

TEST(Lifecycle, OneInstanceAtATimeAndFreezerPolicy) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("l-once", {"/bin/probe", "sleep"});
  p.cgroups.freezer = false;
  Background bg(p);
  ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
  Outcome again = run(p, squashfs_source());
  EXPECT_FALSE(again.ok);
  EXPECT_EQ(again.error, "container 'l-once' is already running (" + images()->state_root +
                             "/l-once is locked)");
  EXPECT_EQ(launch_cli("freeze l-once"), "nestbox-launch freeze: container 'l-once' may not be frozen\nexit 1\n");
  ASSERT_TRUE(stop_container(images()->state_root, "l-once", 5000).ok());
  bg.finish();
  EXPECT_EQ(leftovers("l-once"), std::vector<std::string>{});
}

}  // namespace
}  // namespace nestbox::launcher::testing
