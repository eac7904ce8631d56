// A running container from outside: list/status (--json), freeze/thaw, exec,
// joining its namespaces, stop (graceful and forced), and the CLI front end.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>

#include <gtest/gtest.h>

#include "launcher/cgroups.h"
#include "launcher/health_check.h"
#include "launcher/lifecycle.h"
#include "tests/launcher/support.h"
#include "util/fd_passing.h"
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

int64_t now_ms() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

// Reads `fd` until EOF, at most until `deadline` (now_ms()); false if it came first.
bool read_until(int fd, int64_t deadline, std::string* text) {
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, deadline - now_ms())));
    if (n == 0) return false;
    if (n < 0) continue;
    ssize_t got = ::read(fd, buf, sizeof buf);
    if (got <= 0) return true;
    text->append(buf, static_cast<size_t>(got));
  }
}

// exec_in_container in a process of its own, given 30 s: "hung" if it has not
// returned by then (it is killed), else "exit N" or "error: MESSAGE", then
// what the command wrote.
std::string exec_within_30s(const std::string& name, std::vector<std::string> argv, int start_timeout_ms) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    FILE* out = std::tmpfile();
    ExecRequest req;
    req.argv = std::move(argv);
    req.stdout_fd = req.stderr_fd = ::fileno(out);
    req.start_timeout_ms = start_timeout_ms;
    auto code = exec_in_container(images()->state_root, name, req);
    std::string text = code.ok() ? "exit " + std::to_string(*code) : "error: " + code.error().message;
    std::rewind(out);
    char buf[4096];
    size_t n;
    text += "\n";
    while ((n = std::fread(buf, 1, sizeof buf, out)) > 0) text.append(buf, n);
    (void)!::write(p[1], text.data(), text.size());
    ::_exit(0);
  }
  ::close(p[1]);
  std::string text;
  bool ended = read_until(p[0], now_ms() + 30000, &text);
  ::close(p[0]);
  if (!ended) ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return ended ? text : "hung";
}

// The container's root (CAP_KILL in its user namespace) SIGSTOPs exec's
// process once it has joined the container, before it has exec'd the
// command. exec used to wait for it without end (and a helper of its own
// for it); now it kills it when its start timeout has passed and fails.
TEST(Lifecycle, ExecFailsClosedWhenTheContainerStopsItBeforeTheCommand) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("l-exec-stop", {"/bin/probe", "stopper", "/bin/true"});
  p.caps.keep = uint64_t{1} << CAP_KILL;
  Background bg(p);
  ASSERT_TRUE(bg.wait_for("watching\n")) << bg.output();
  // The stopper races the exec; it usually wins at once (the process waits
  // for its cgroup, then joins namespaces, before the exec).
  std::string result;
  auto caught = [&] { return bg.output().find("before exec") != std::string::npos; };
  for (int attempt = 0; attempt < 50 && !caught(); ++attempt) {
    result = exec_within_30s("l-exec-stop", {"/bin/true"}, 1000);
    if (!caught()) {
      EXPECT_EQ(result, "exit 0\n") << bg.output();
    }
  }
  ASSERT_TRUE(caught()) << bg.output();
  EXPECT_EQ(result,
            "error: exec: the command did not start within 1000 ms (its process was stopped or stalled inside the "
            "container): killed\n");
  // What exec started is gone: the init and the stopper are all that is left.
  std::string dir = sh("find /sys/fs/cgroup/pids -maxdepth 4 -type d -name nestbox-l-exec-stop");
  ASSERT_FALSE(dir.empty());
  EXPECT_EQ(sh("wc -l < " + dir.substr(0, dir.find('\n')) + "/cgroup.procs"), "2\n");
  ASSERT_TRUE(stop_container(images()->state_root, "l-exec-stop", 5000).ok());
  bg.finish();
  EXPECT_EQ(leftovers("l-exec-stop"), std::vector<std::string>{});
}

// run() in a process of its own, given 30 s: "hung" (it is killed), "ok" or
// "error: MESSAGE".
std::string run_within_30s(const policy::Policy& p, const Options& o) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    Outcome r = run(p, squashfs_source(), o);
    std::string text = r.ok ? "ok" : "error: " + r.error;
    (void)!::write(fds[1], text.data(), text.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  bool ended = read_until(fds[0], now_ms() + 30000, &text);
  ::close(fds[0]);
  if (!ended) ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return ended ? text : "hung";
}

// A container that joins another's pid namespace starts its processes where
// that one can signal them (same mapped uid): a stopper there SIGSTOPped the
// joiner's main process before its exec, which held the setup channel open,
// and the joiner's launcher waited for it without end (signals blocked: not
// even `stop` ended it). Now the setup is bounded and the launch fails.
TEST(Lifecycle, SetupFailsClosedWhenAJoinedContainerStopsItsProcess) {
  NESTBOX_NEED_IMAGES();
  policy::Policy a = full_policy("l-setup-a", {"/bin/probe", "stopper", "true"});
  Background bg(a);
  ASSERT_TRUE(bg.wait_for("watching\n")) << bg.output();
  // The stopper can signal it once its ids are the container's, just before
  // the exec; a long PATH (execvp tries each entry) widens that moment.
  policy::Policy b = full_policy("l-setup-b", {"true"});
  std::string path = "PATH=";
  for (int i = 0; i < 300; ++i) path += "/none" + std::to_string(i) + ":";
  b.process.env = {path + "/bin", "HOME=/"};
  b.namespaces[policy::kNsPid] = {policy::NsMode::kJoin, "l-setup-a"};
  b.namespaces[policy::kNsMount] = {policy::NsMode::kJoin, "l-setup-a"};
  Options o = test_options();
  o.setup_timeout_ms = 1000;
  std::string result;
  auto caught = [&] { return bg.output().find("before exec") != std::string::npos; };
  for (int attempt = 0; attempt < 150 && !caught(); ++attempt) {
    result = run_within_30s(b, o);
    if (!caught()) {
      EXPECT_EQ(result, "ok") << bg.output();
    }
  }
  ASSERT_TRUE(caught()) << bg.output();
  EXPECT_EQ(result,
            "error: container l-setup-b: its setup did not finish within 1000 ms (a process of it was stopped or "
            "stalled before its exec): killed");

  // With the default setup timeout, `stop` ends such a launch within the
  // stop timeout (2 s here); it used to be blocked with the launcher's signals.
  auto stops = [&] {
    std::string out = bg.output();
    size_t n = 0;
    for (size_t at = out.find("before exec"); at != std::string::npos; at = out.find("before exec", at + 1)) ++n;
    return n;
  };
  bool stopped_one = false;
  for (int attempt = 0; attempt < 150 && !stopped_one; ++attempt) {
    size_t before = stops();
    Background joiner(b);
    std::string state = images()->state_root + "/l-setup-b";
    for (int i = 0; i < 300 && stops() == before && (i < 20 || ::access(state.c_str(), F_OK) == 0); ++i)
      ::usleep(10000);
    if (stops() == before) {
      joiner.finish();  // the stopper missed it: it ran and ended
      continue;
    }
    stopped_one = true;
    bool ended = stop_container(images()->state_root, "l-setup-b", 10000).ok();
    EXPECT_TRUE(ended);  // else the joiner is killed (SIGKILL) when it goes
    if (!ended) break;
    EXPECT_EQ(joiner.finish(), 200);  // Background: the launch failed
    EXPECT_EQ(joiner.output(), "launcher error: container l-setup-b: stopped during its setup, which did not "
                               "finish within the stop timeout (2000 ms): killed\n");
  }
  EXPECT_TRUE(stopped_one) << bg.output();
  ASSERT_TRUE(stop_container(images()->state_root, "l-setup-a", 5000).ok());
  bg.finish();
  EXPECT_EQ(leftovers("l-setup-a"), std::vector<std::string>{});
  EXPECT_EQ(leftovers("l-setup-b"), std::vector<std::string>{});  // (A's processes count while it runs)
}

// exec's output relay waited until every write end of its pipe was closed:
// a process the command left running in the container (or one it passed the
// pipe to) held `nestbox-launch exec` for as long as it lived. Now exec ends
// 2 s after its command, with the output written until then.
TEST(Lifecycle, ExecEndsWhenItsCommandEndsThoughTheContainerHoldsItsOutput) {
  NESTBOX_NEED_IMAGES();
  Background bg(full_policy("l-exec-hold", {"/bin/probe", "sleep"}));
  ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
  std::string out = images()->dir + "/l-exec-hold.out";
  // A regular file is relayed (stdio_relay.h); `timeout` stands for "hangs".
  EXPECT_EQ(sh("timeout -s KILL 30 " + std::string(NESTBOX_LAUNCH) + " exec l-exec-hold --state-dir " +
               images()->state_root + " -- /bin/sh -c 'echo before; sleep 600 & echo after' >" + out +
               " 2>&1; echo \"exit $?\""),
            "exit 0\n");
  EXPECT_EQ(sh("cat " + out), "before\nafter\n");
  ASSERT_TRUE(stop_container(images()->state_root, "l-exec-hold", 5000).ok());
  bg.finish();
  EXPECT_EQ(leftovers("l-exec-hold"), std::vector<std::string>{});
}

// Review 6 (lead c): a health check that outlived its timeout was judged
// failed and its exec process killed, but the command it ran (and what that
// started) stayed in the container until the rollback stopped it; with
// pid = "host", in the host's pid namespace. The command's process group dies
// at the timeout now.
TEST(Lifecycle, TimedOutHealthCheckKillsItsCommandAndWhatItStarted) {
  NESTBOX_NEED_IMAGES();
  Background bg(full_policy("l-health", {"/bin/probe", "sleep"}));
  ASSERT_TRUE(bg.wait_for("sleeping\n")) << bg.output();
  auto lingering = [] {  // host-side: the check's sleeps, by their argument
    return sh("for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <$f 2>/dev/null; echo; done | grep -c '^sleep 4242 $'");
  };
  // One in its process group, one moved to a session of its own (setsid).
  policy::Health check{{"/bin/sh", "-c", "sleep 4242 & /bin/busybox setsid sleep 4242 & sleep 4242"}, 300};
  EXPECT_EQ(run_health_check(images()->state_root, "l-health", check), "did not finish within 300 ms");
  EXPECT_EQ(lingering(), "0\n");
  // A check that ends in time takes what it left running with it.
  check.argv = {"/bin/sh", "-c", "/bin/busybox setsid sleep 4242 & exit 3"};
  EXPECT_EQ(run_health_check(images()->state_root, "l-health", check), "exited 3");
  EXPECT_EQ(lingering(), "0\n");
  ASSERT_TRUE(stop_container(images()->state_root, "l-health", 5000).ok());
  bg.finish();
  EXPECT_EQ(leftovers("l-health"), std::vector<std::string>{});
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

// In a pid namespace of its own (pid 1 here; ns_last_pid is its own): the
// cgroup `pids_dir` (v1) gets one process, V (pid 2). A second process runs
// Cgroup::kill_all() on it under a seccomp filter that stops its first
// kill() or pidfd_open() of pid 2 (a user notification). While it waits, V
// is killed and reaped and H, a process outside the cgroup, is forked with
// pid 2; then the call goes on. Exit 0: H survived kill_all; 1: H was killed;
// others: the set-up failed.
[[noreturn]] void reuse_the_listed_pid(const std::string& pids_dir) {
  Cgroup cg = Cgroup::attach({{pids_dir, false, "pids"}});
  pid_t victim = ::fork();
  if (victim == 0) for (;;) ::pause();
  if (victim != 2 || !cg.add(victim).ok()) ::_exit(10);
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) ::_exit(11);
  pid_t killer = ::fork();
  if (killer == 0) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(kill), 1, SCMP_A0(SCMP_CMP_EQ, 2)) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(pidfd_open), 1, SCMP_A0(SCMP_CMP_EQ, 2)) != 0 ||
        seccomp_load(ctx) != 0)
      ::_exit(12);
    int listener = seccomp_notify_fd(ctx);
    if (!send_fd(sv[1], 'L', listener).ok()) ::_exit(13);
    ::close(listener);
    cg.kill_all();
    ::_exit(0);
  }
  ::close(sv[1]);
  UniqueFd passed;
  auto got = receive_with_fd(sv[0], &passed);
  if (!got.ok() || *got != "L" || !passed) ::_exit(14);
  int listener = passed.release();
  seccomp_notif* req = nullptr;
  seccomp_notif_resp* resp = nullptr;
  if (seccomp_notify_alloc(&req, &resp) != 0) ::_exit(15);
  pid_t host = -1;
  while (true) {  // every stopped call goes on; the first one after the swap
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, 20000) <= 0 || !(p.revents & POLLIN)) break;  // the killer is done
    std::memset(req, 0, sizeof *req);
    if (seccomp_notify_receive(listener, req) != 0) break;
    if (host < 0) {
      ::kill(victim, SIGKILL);
      ::waitpid(victim, nullptr, 0);
      int last = ::open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);  // this pid namespace's
      if (last < 0 || ::write(last, "1", 1) != 1) ::_exit(16);
      ::close(last);
      host = ::fork();
      if (host == 0) for (;;) ::pause();
      if (host != 2) ::_exit(17);
    }
    std::memset(resp, 0, sizeof *resp);
    resp->id = req->id;
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    (void)seccomp_notify_respond(listener, resp);
  }
  int st = 0;
  ::waitpid(killer, &st, 0);
  if (host < 0) ::_exit(18);  // kill_all never named pid 2
  bool survived = ::waitpid(host, nullptr, WNOHANG) == 0;
  ::kill(host, SIGKILL);
  ::waitpid(host, nullptr, 0);
  ::_exit(survived ? 0 : 1);
}

// kill_all listed the cgroup's pids, then signalled them by number: a
// listed process reaped in between left its pid to the next process the
// kernel made, which was killed. The moment is forced here (above).
TEST(Lifecycle, KillAllNeverSignalsAPidReusedAfterTheListing) {
  NESTBOX_NEED_IMAGES();
  policy::Cgroups limits;
  limits.pids_max = 64;
  auto cg = Cgroup::create("l-reuse", "", limits);
  ASSERT_TRUE(cg.ok()) << cg.error().message;
  std::string pids_dir;
  for (const CgroupDir& d : cg->dirs())
    if (!d.v2 && d.controllers == "pids") pids_dir = d.path;
  // cgroup.kill (v2) would end the listed process before any listing.
  if (pids_dir.empty()) GTEST_SKIP() << "no cgroup v1 pids hierarchy here";
  pid_t outer = ::fork();
  if (outer == 0) {
    if (::unshare(CLONE_NEWPID) != 0) ::_exit(20);
    pid_t init = ::fork();
    if (init == 0) reuse_the_listed_pid(pids_dir);
    int st = 0;
    ::waitpid(init, &st, 0);
    ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 21);
  }
  int st = 0;
  for (int i = 0; i < 6000 && ::waitpid(outer, &st, WNOHANG) == 0; ++i) ::usleep(10000);  // 60 s at most
  if (::waitpid(outer, &st, WNOHANG) == 0) {
    ::kill(outer, SIGKILL);
    ::waitpid(outer, &st, 0);
    FAIL() << "hung";
  }
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "1: kill_all killed the process that got the listed pid after the listing";
  EXPECT_TRUE(cg->empty());
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
