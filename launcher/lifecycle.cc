#include "launcher/lifecycle.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

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
  int go[2];
  if (::pipe2(go, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd go_r(go[0]), go_w(go[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    go_w.reset();
    char c;
    if (::read(go_r.get(), &c, 1) != 1) ::_exit(126);
    // Not dumpable: the container's processes cannot ptrace this host-side helper.
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    int fds[3] = {req.stdin_fd, req.stdout_fd, req.stderr_fd};
    for (int i = 0; i < 3; ++i)
      if (fds[i] >= 0) ::dup2(fds[i], i);
    Status s = join_namespaces(ns);  // pid: for the child forked below
    if (s.ok()) s = join_user(ns);
    if (s.ok()) s = replace_host_null();  // the container's own, once inside it
    if (!s.ok()) {
      std::fprintf(stderr, "nestbox-launch exec: %s\n", s.error().message.c_str());
      ::_exit(126);
    }
    pid_t inner = ::fork();
    if (inner == 0) {
      // Its own session: kill(0, ...) from inside cannot reach this helper,
      // `nestbox-launch exec` or the caller's process group.
      if (::setsid() < 0) ::_exit(126);
      Error e = become_and_exec(*profile, req.argv);
      std::fprintf(stderr, "nestbox-launch exec: %s\n", e.message.c_str());
      ::_exit(127);
    }
    int status = 0;
    while (::waitpid(inner, &status, 0) < 0 && errno == EINTR) {
    }
    ::_exit(exit_code(status));
  }
  go_r.reset();
  Status added = cg.add(pid);  // before it joins anything: its children inherit the cgroup
  if (added.ok()) (void)!::write(go_w.get(), "g", 1);
  go_w.reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!added.ok()) return std::move(added).error();
  return exit_code(status);
}

}  // namespace nestbox::launcher
