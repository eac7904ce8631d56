#include "launcher/lifecycle.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>

#include "launcher/cgroups.h"
#include "launcher/namespaces.h"
#include "launcher/privileges.h"
#include "launcher/process.h"
#include "launcher/profile.h"
#include "launcher/running_init.h"
#include "launcher/state.h"
#include "launcher/stdio_relay.h"
#include "util/file_io.h"
#include "util/json_quote.h"
#include "util/pidfd.h"

namespace nestbox::launcher {
namespace {

Result<std::string> running_dir(const std::string& root, const std::string& name) {
  NESTBOX_TRY(check_name(name));
  std::string dir = root + "/" + name;
  if (!is_running(dir)) return failure("container '" + name + "' is not running");
  return dir;
}

int read_int(const std::string& path) {
  auto r = read_file(path);
  return r.ok() ? std::atoi(r->c_str()) : 0;
}

void sleep_ms(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  ::nanosleep(&ts, nullptr);
}

int64_t now_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Forks the process that becomes exec's command straight into the
// container's pid namespace (`pidns`; this thread's pid_for_children is
// switched for the fork and back). Its parent is this process, which waits
// for it through its pidfd: no helper of ours in between for the container
// to stall or stop. Not dumpable from the fork on: it holds the host's
// credentials until it joins the user namespace, and a container running as
// the host's uid 0 sees it in its pid namespace and could otherwise ptrace it.
Result<OwnedChild> fork_into(const UniqueFd& pidns) {
  UniqueFd own;
  if (pidns) {
    own.reset(::open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC));
    if (!own) return sys_error("open /proc/thread-self/ns/pid_for_children");
    if (::setns(pidns.get(), CLONE_NEWPID) != 0) return sys_error("setns pid");
  }
  int dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  auto child = OwnedChild::fork();
  if (child.ok() && child->pid() == 0) return child;
  if (dumpable > 0) ::prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
  if (own && ::setns(own.get(), CLONE_NEWPID) != 0) {
    // Every later child of this process would start inside the container.
    std::fprintf(stderr, "nestbox-launch: cannot return to its own pid namespace: %s\n", std::strerror(errno));
    ::abort();
  }
  return child;
}

// Until exec's command has started (EOF on `started`: its execve closed the
// write end, or its process ended) or `timeout_ms` has passed; then it is
// killed (SIGKILL ends a stopped process too) and reaped, and exec fails.
// Everything before the execve runs where the container's root can stop or
// stall it, and no host tool may wait for that without end.
Status await_start(OwnedChild& child, int started, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (true) {
    // The pidfd (readable once the process ended) too: an end before the
    // exec closes the pipe as well, but only if nothing else holds it.
    pollfd p[2] = {{started, POLLIN, 0}, {child.pidfd(), POLLIN, 0}};
    int left = static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int n = ::poll(p, 2, left);
    if (n < 0 && errno != EINTR) {
      Error e = sys_error("exec: wait for the command to start");
      child.kill_and_reap();
      return e;
    }
    if (n > 0 && (p[0].revents || p[1].revents)) return {};
    if (now_ms() >= deadline) {
      child.kill_and_reap();
      return failure("exec: the command did not start within " + std::to_string(timeout_ms) +
                     " ms (its process was stopped or stalled inside the container): killed");
    }
  }
}

// Until exec's command has ended or `deadline` (now_ms()) has passed; then its
// process group and it are killed. Its group id is its pid, which cannot be
// reused while the command is our unreaped child: the kill reaches the
// processes it started (that stayed in its session), not a stranger.
Status await_end(OwnedChild& child, int64_t deadline, int timeout_ms) {
  while (true) {
    int left = static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    if (child.pidfd() >= 0) {
      pollfd p = {child.pidfd(), POLLIN, 0};
      int n = ::poll(&p, 1, std::min(left, 1000));
      if (n > 0) return {};
      if (n < 0 && errno != EINTR) break;  // fails closed: killed below
    } else {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(child.pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == child.pid())
        return {};
      sleep_ms(std::min(left, 20));
    }
    if (now_ms() >= deadline) break;
  }
  ::kill(-child.pid(), SIGKILL);
  child.kill_and_reap();
  Error e = failure("exec: the command did not finish within " + std::to_string(timeout_ms) +
                    " ms: killed with its process group");
  e.sys_errno = ETIMEDOUT;
  return e;
}

}  // namespace

Result<ContainerStatus> container_status(const std::string& root, const std::string& name) {
  auto dir = running_dir(root, name);
  if (!dir.ok()) return std::move(dir).error();
  ContainerStatus s;
  s.name = name;
  s.launcher_pid = read_int(*dir + "/pid");
  s.init_pid = read_int(*dir + "/init");
  auto described = read_file(*dir + "/cgroups");
  Cgroup cg = Cgroup::attach(described.ok() ? Cgroup::parse(*described) : std::vector<CgroupDir>{});
  for (const CgroupDir& d : cg.dirs()) s.cgroups.push_back(d.path);
  auto frozen = cg.frozen();
  s.state = frozen.ok() && *frozen ? "frozen" : "running";
  auto services = read_file(*dir + "/services");
  if (services.ok()) s.services = parse_services(*services);
  return s;
}

Result<std::vector<ContainerStatus>> list_containers(const std::string& root) {
  std::vector<ContainerStatus> out;
  DIR* d = ::opendir(root.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return sys_error("open " + root);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    auto s = container_status(root, n);
    if (s.ok()) out.push_back(std::move(*s));
  }
  return out;
}

std::string to_json(const ContainerStatus& s) {
  std::string cgroups;
  for (const std::string& c : s.cgroups) cgroups += (cgroups.empty() ? "" : ",") + json_string(c);
  std::string services;
  for (const ServiceStatus& v : s.services)
    services += (services.empty() ? "" : ",") + std::string("{\"name\":") + json_string(v.name) +
                ",\"state\":" + json_string(v.state) + ",\"restarts\":" + std::to_string(v.restarts) + "}";
  return "{\"name\":" + json_string(s.name) + ",\"state\":" + json_string(s.state) +
         ",\"pid\":" + std::to_string(s.launcher_pid) + ",\"init_pid\":" +
         std::to_string(s.init_pid) + ",\"cgroups\":[" + cgroups + "]" +
         (s.services.empty() ? "" : ",\"services\":[" + services + "]") + "}";
}

std::string to_json(const std::vector<ContainerStatus>& list) {
  std::string out = "[";
  for (const ContainerStatus& s : list) out += (out.size() > 1 ? "," : "") + to_json(s);
  return out + "]";
}

Status stop_container(const std::string& root, const std::string& name, int wait_ms,
                      int stop_timeout_ms) {
  auto dir = running_dir(root, name);
  if (!dir.ok()) return std::move(dir).error();
  int pid = read_int(*dir + "/pid");
  if (pid <= 1) return failure(*dir + "/pid: no launcher pid");
  // Pinned, then the lock checked again: the launcher held it after the pin,
  // so the pidfd is the launcher's, not a process that got its number after
  // it exited. The launcher reads the stop timeout from the queued value.
  UniqueFd pidfd = pin_process(pid);
  if (!pidfd && errno != ENOSYS) return failure("container '" + name + "' is not running");
  if (!is_running(*dir)) return failure("container '" + name + "' is not running");
  int value = stop_timeout_ms >= 0 ? stop_timeout_ms : -1;
  if (pidfd) {
    NESTBOX_TRY_CTX(signal_pinned(pidfd, SIGTERM, value), "signal launcher " + std::to_string(pid));
  } else {
    sigval v;
    v.sival_int = value;
    if (::sigqueue(pid, SIGTERM, v) != 0) return sys_error("signal launcher " + std::to_string(pid));
  }
  for (int waited = 0; waited < wait_ms; waited += 10) {
    if (!is_running(*dir)) return {};
    sleep_ms(10);
  }
  return failure("container '" + name + "' still running after " + std::to_string(wait_ms) + " ms");
}

bool clear_stale(const std::string& root, const std::string& name) {
  if (!check_name(name).ok()) return false;
  std::string dir = root + "/" + name;
  if (::access(dir.c_str(), F_OK) != 0 || is_running(dir)) return false;
  auto described = read_file(dir + "/cgroups");
  if (described.ok()) Cgroup::adopt(Cgroup::parse(*described));  // killed and removed here
  remove_state(dir);
  return true;
}

Status freeze_container(const std::string& root, const std::string& name, bool frozen) {
  auto dir = running_dir(root, name);
  if (!dir.ok()) return std::move(dir).error();
  if (read_int(*dir + "/freezer") != 1) return failure("container '" + name + "' may not be frozen");
  auto described = read_file(*dir + "/cgroups");
  if (!described.ok()) return std::move(described).error();
  return Cgroup::attach(Cgroup::parse(*described)).freeze(frozen);
}

Result<int> exec_in_container(const std::string& root, const std::string& name,
                              const ExecRequest& req) {
  int64_t run_deadline = now_ms() + req.run_timeout_ms;
  auto dir = running_dir(root, name);
  if (!dir.ok()) return std::move(dir).error();
  auto text = read_file(*dir + "/exec");
  if (!text.ok()) return std::move(text).error();
  auto profile = deserialize(*text);
  if (!profile.ok()) return std::move(profile.error().context(*dir + "/exec"));
  NESTBOX_TRY(check_lsm_available(profile->apparmor, profile->selinux));  // the host's view
  auto described = read_file(*dir + "/cgroups");
  if (!described.ok()) return std::move(described).error();
  Cgroup cg = Cgroup::attach(Cgroup::parse(*described));
  // A command with a run timeout (a health check) runs in a cgroup of its own
  // below the container's: when exec returns, in time or not, whatever it
  // started dies with it, also what moved to a session of its own. A kernel
  // without cgroup2 has no such place: there the process-group kill of
  // await_end is all, and the container's stop takes the rest.
  std::optional<Cgroup> apart;
  if (req.run_timeout_ms > 0) {
    auto made = cg.sub("nestbox-exec-" + std::to_string(::getpid()));
    if (made.ok()) apart.emplace(std::move(*made));
  }

  // Open every namespace first: after setns(mnt) the host's /proc is gone.
  bool every[policy::kNsCount];
  std::fill(std::begin(every), std::end(every), true);
  auto opened = open_running_namespaces(root, name, every);
  if (!opened.ok()) return std::move(opened).error();
  std::vector<UniqueFd> ns = std::move(*opened);
  for (int i = 0; i < policy::kNsCount; ++i) {
    struct stat mine, theirs;
    std::string self = std::string("/proc/self/ns/") + ns_name(i);
    if (::fstat(ns[i].get(), &theirs) != 0) return sys_error(std::string("stat namespace ") + ns_name(i));
    if (::stat(self.c_str(), &mine) == 0 && mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino)
      ns[i].reset();  // shared with the host: nothing to join
  }
  int go[2], started[2];
  // A socket, written with MSG_NOSIGNAL: a process the container killed
  // before its go must not take this one with it (SIGPIPE).
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) != 0) return sys_error("socketpair");
  UniqueFd go_r(go[0]), go_w(go[1]);
  // Closed by the execve (close-on-exec) or by the command's process ending:
  // EOF here says the command has started (or failed to, and said why on
  // its stderr). Nothing else holds the write end.
  if (::pipe2(started, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd started_r(started[0]), started_w(started[1]);
  auto forked = fork_into(ns[policy::kNsPid]);
  if (!forked.ok()) return std::move(forked).error();
  OwnedChild child = std::move(*forked);
  if (child.pid() == 0) {
    go_w.reset();
    started_r.reset();
    // Until the ids change (which clears it): this process dies with
    // `nestbox-launch exec` rather than start the command after it gave up.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    char c;
    if (::read(go_r.get(), &c, 1) != 1) ::_exit(126);
    int fds[3] = {req.stdin_fd, req.stdout_fd, req.stderr_fd};
    for (int i = 0; i < 3; ++i)
      if (fds[i] >= 0) ::dup2(fds[i], i);
    ns[policy::kNsPid].reset();  // in it since the fork
    Status s = join_namespaces(ns);
    if (s.ok()) s = join_user(ns);
    if (s.ok()) s = replace_host_null();  // the container's own, once inside it
    // Its own session: kill(0, ...) from inside cannot reach `nestbox-launch
    // exec` or the caller's process group.
    if (s.ok() && ::setsid() < 0) s = sys_error("setsid");
    if (!s.ok()) {
      std::fprintf(stderr, "nestbox-launch exec: %s\n", s.error().message.c_str());
      ::_exit(126);
    }
    Error e = become_and_exec(*profile, req.argv);
    std::fprintf(stderr, "nestbox-launch exec: %s\n", e.message.c_str());
    ::_exit(127);
  }
  go_r.reset();
  started_w.reset();
  // Before it joins anything: its children inherit the cgroup.
  NESTBOX_TRY_CTX(cg.add(child.pid()), "exec");  // the owner kills it
  if (apart) NESTBOX_TRY_CTX(apart->add(child.pid()), "exec");
  if (::send(go_w.get(), "g", 1, MSG_NOSIGNAL) != 1) return sys_error("exec: start the command");
  go_w.reset();
  NESTBOX_TRY(await_start(child, started_r.get(), req.start_timeout_ms));
  if (req.run_timeout_ms > 0) NESTBOX_TRY(await_end(child, run_deadline, req.run_timeout_ms));
  return exit_code(child.reap());
}

}  // namespace nestbox::launcher
