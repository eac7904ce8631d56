// The supervisor side of `nestbox learn-seccomp`: clone the sandboxed child,
// write its user-namespace maps, take its filter's listener with
// pidfd_getfd(2) and answer every notification with "continue", recording it.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "learn/sandbox.h"
#include "learn/seccomp_learn.h"
#include "policy/arch.h"
#include "util/fd.h"

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

namespace nestbox::learn {
namespace {

using Clock = std::chrono::steady_clock;

// The child: confine, tell the parent which fd number the listener will get
// (the lowest free one: nothing else opens an fd in between), install the
// filter and exec. Only execve itself is made between the filter and the
// program, and the program needs it anyway.
[[noreturn]] void child_main(const manifests::Manifest& m, const std::string& root, SandboxPipes pipes) {
  auto die = [](const std::string& why) {
    std::string line = "nestbox learn-seccomp: in the container: " + why + "\n";
    (void)!::write(2, line.data(), line.size());
    ::_exit(126);
  };
  Status st = enter_sandbox(m, root, pipes);
  if (!st.ok()) die(st.error().message);
  ::close(pipes.from_parent);
  // Nothing of the learner's reaches the program: every fd above 2 closes at exec.
  if (::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0) die("close_range");
  int probe = ::fcntl(pipes.to_parent, F_DUPFD, 0);
  if (probe < 0) die("dup");
  ::close(probe);
  if (::write(pipes.to_parent, &probe, sizeof probe) != sizeof probe) die("tell the learner");
  std::vector<std::string> env = m.process.env;
  std::vector<char*> argv, envp;
  for (const auto& a : m.process.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  sock_filter insn = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
  sock_fprog prog{1, &insn};
  long listener = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (listener != probe) _exit(125);  // the parent never finds it and says so
  ::execve(argv[0], argv.data(), envp.data());
  ::_exit(127);
}

Status write_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_error(path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) return sys_error(path);
  return ok_status();
}

std::string map_text(const std::vector<manifests::IdMapRange>& map) {
  std::string s;
  for (const auto& r : map)
    s += std::to_string(r.inside) + " " + std::to_string(r.outside) + " " + std::to_string(r.count) + "\n";
  return s;
}

bool read_all(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n) {
    ssize_t got = ::read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

std::string arch_name(uint32_t audit_arch, int nr) {
  if (audit_arch == SCMP_ARCH_X86_64 && (nr & __X32_SYSCALL_BIT)) return "x32";
  for (const policy::ArchInfo& a : policy::kArches)
    if (a.audit_arch == audit_arch) return a.name;
  char buf[32];
  std::snprintf(buf, sizeof buf, "arch-0x%08x", audit_arch);
  return buf;
}

std::string syscall_name(uint32_t audit_arch, int nr) {
  uint32_t scmp = audit_arch;
  if (audit_arch == SCMP_ARCH_X86_64 && (nr & __X32_SYSCALL_BIT)) scmp = SCMP_ARCH_X32;
  char* name = seccomp_syscall_resolve_num_arch(scmp, nr);
  if (!name && scmp == SCMP_ARCH_X32) name = seccomp_syscall_resolve_num_arch(scmp, nr & ~__X32_SYSCALL_BIT);
  if (!name) return "#" + std::to_string(nr);
  std::string s = name;
  std::free(name);
  return s;
}

// The listener, taken from the child once its filter is in place.
Result<UniqueFd> take_listener(int pidfd, int number, pid_t child) {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    long fd = ::syscall(SYS_pidfd_getfd, pidfd, number, 0);
    if (fd >= 0) {
      UniqueFd owned(static_cast<int>(fd));
      char link[64] = {};
      std::string self = "/proc/self/fd/" + std::to_string(owned.get());
      ssize_t n = ::readlink(self.c_str(), link, sizeof link - 1);
      if (n > 0 && std::string(link, static_cast<size_t>(n)) == "anon_inode:seccomp notify") return owned;
    } else if (errno != EBADF) {
      return sys_error("pidfd_getfd");
    }
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child)
      return failure("the container exited before its filter was in place (see above)");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return failure("the container's seccomp listener did not appear");
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "ended";
}

std::string identity(const manifests::Manifest& m) {
  std::string s = "as uid " + std::to_string(m.process.uid) + " gid " + std::to_string(m.process.gid);
  if (m.users.user_namespace) {
    uint32_t host_uid = 65534;
    for (const auto& r : m.users.uid_map)
      if (m.process.uid >= r.inside && m.process.uid - r.inside < r.count) host_uid = r.outside + m.process.uid - r.inside;
    s += " in a user namespace (host uid " + std::to_string(host_uid) + ")";
  } else {
    s += " (no user namespace: the same ids on the host)";
  }
  s += ", capabilities: ";
  s += m.security.capabilities.empty() ? "none" : "";
  for (size_t i = 0; i < m.security.capabilities.size(); ++i) s += (i ? " " : "") + m.security.capabilities[i];
  s += ", no_new_privs; new namespaces: mount";
  const int f = clone_flags(m);
  if (m.users.user_namespace) s += " user";
  if (f & CLONE_NEWPID) s += " pid";
  if (f & CLONE_NEWNET) s += " net";
  if (f & CLONE_NEWUTS) s += " uts";
  if (f & CLONE_NEWIPC) s += " ipc";
  if (f & CLONE_NEWCGROUP) s += " cgroup";
  return s;
}

}  // namespace

Result<LearnResult> learn_seccomp(const manifests::Manifest& m, const LearnOptions& options) {
  if (m.process.command.empty()) return bad_input(m.name + ": no process.command to run");
  const policy::ArchInfo* arch = policy::find_arch(manifests::to_string(m.arch));
  if (!arch || arch->audit_arch != policy::kBuildAuditArch)
    return bad_input(m.name + ": arch '" + manifests::to_string(m.arch) +
                     "' is not this machine's: its programs cannot run here to be observed");
  int c2p[2], p2c[2];
  if (::pipe2(c2p, O_CLOEXEC) != 0 || ::pipe2(p2c, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd c2p_r(c2p[0]), c2p_w(c2p[1]), p2c_r(p2c[0]), p2c_w(p2c[1]);
  std::cout.flush();
  std::cerr.flush();
  long pid = ::syscall(SYS_clone, clone_flags(m) | SIGCHLD, nullptr, nullptr, nullptr, 0);
  if (pid < 0) return sys_error("clone (namespaces)");
  if (pid == 0) {
    c2p_r.reset();
    p2c_w.reset();
    child_main(m, options.root, SandboxPipes{c2p_w.get(), p2c_r.get()});
  }
  const pid_t child = static_cast<pid_t>(pid);
  c2p_w.reset();
  p2c_r.reset();
  bool reaped = false;
  int child_status = 0;
  // Whatever fails from here on, the child does not outlive the learner.
  struct Reaper {
    pid_t pid;
    bool* reaped;
    ~Reaper() {
      if (*reaped) return;
      ::kill(pid, SIGKILL);
      int st;
      ::waitpid(pid, &st, 0);
    }
  } reaper{child, &reaped};
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
  if (!pidfd) return sys_error("pidfd_open");
  if (m.users.user_namespace) {
    char c = 0;
    if (::read(c2p_r.get(), &c, 1) != 1 || c != 'U') return failure("the container's setup failed (see above)");
    const std::string proc = "/proc/" + std::to_string(child);
    NESTBOX_TRY(write_file(proc + "/uid_map", map_text(m.users.uid_map)));
    NESTBOX_TRY(write_file(proc + "/gid_map", map_text(m.users.gid_map)));
    if (::write(p2c_w.get(), "M", 1) != 1) return sys_error("tell the container");
  }
  int number = -1;
  if (!read_all(c2p_r.get(), &number, sizeof number)) return failure("the container's setup failed (see above)");
  auto listener = take_listener(pidfd.get(), number, child);
  if (!listener.ok()) {
    reaped = ::waitpid(child, &child_status, WNOHANG) == child;
    return std::move(listener).error();
  }

  seccomp_notif_sizes sizes{};
  if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return sys_error("seccomp notif sizes");
  std::vector<char> req_buf(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  std::vector<char> resp_buf(std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));

  LearnResult result;
  pid_t probe = -1;
  int probe_status = 0;
  bool probe_done = options.probe.empty();
  if (!options.probe.empty()) {
    // The probe runs on the host, as the caller, in the container's network
    // namespace (only that one): it plays the client of the service.
    UniqueFd netns(::open(("/proc/" + std::to_string(child) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) return sys_error("the container's network namespace");
    probe = ::fork();
    if (probe < 0) return sys_error("fork (probe)");
    if (probe == 0) {
      if (::setns(netns.get(), CLONE_NEWNET) != 0) ::_exit(126);
      // Its output is the developer's to read, not part of the fragment on stdout.
      if (::dup2(2, 1) != 1) ::_exit(126);
      ::execl("/bin/sh", "sh", "-c", options.probe.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  const auto start = Clock::now();
  auto stop_at = start + std::chrono::milliseconds(options.timeout_ms);
  bool stopping = false;
  Clock::time_point kill_at{};
  bool timed_out = false;
  for (;;) {
    pollfd p{listener->get(), POLLIN, 0};
    int n = ::poll(&p, 1, 50);
    if (n < 0 && errno != EINTR) return sys_error("poll");
    if (n > 0 && (p.revents & POLLIN)) {
      std::fill(req_buf.begin(), req_buf.end(), 0);
      auto* req = reinterpret_cast<seccomp_notif*>(req_buf.data());
      if (::ioctl(listener->get(), SECCOMP_IOCTL_NOTIF_RECV, req) == 0) {
        result.syscalls[arch_name(req->data.arch, req->data.nr)].insert(syscall_name(req->data.arch, req->data.nr));
        ++result.notifications;
        std::fill(resp_buf.begin(), resp_buf.end(), 0);
        auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf.data());
        resp->id = req->id;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        // ENOENT: the task died meanwhile (e.g. killed); nothing to answer.
        (void)::ioctl(listener->get(), SECCOMP_IOCTL_NOTIF_SEND, resp);
      }
      continue;
    }
    if (!reaped && ::waitpid(child, &child_status, WNOHANG) == child) reaped = true;
    if (probe > 0 && !probe_done && ::waitpid(probe, &probe_status, WNOHANG) == probe) probe_done = true;
    if (reaped && (n == 0 || (p.revents & (POLLHUP | POLLERR)))) break;
    const auto now = Clock::now();
    if (!stopping && (now >= stop_at || (probe > 0 && probe_done))) {
      timed_out = now >= stop_at && !probe_done;
      stopping = true;
      // A pid-namespace init ignores SIGTERM without a handler; SIGKILL follows.
      ::kill(child, SIGTERM);
      kill_at = now + std::chrono::milliseconds(1000);
    }
    if (stopping && !reaped && now >= kill_at) ::kill(child, SIGKILL);
  }
  if (probe > 0 && !probe_done) {
    ::kill(probe, SIGKILL);
    ::waitpid(probe, &probe_status, 0);
    return failure("the probe did not finish within " + std::to_string(options.timeout_ms) +
                   " ms; nothing learned is written");
  }
  if (probe > 0 && !(WIFEXITED(probe_status) && WEXITSTATUS(probe_status) == 0))
    return failure("the probe " + describe_status(probe_status) +
                   ": the service did not do its job, so the list would be incomplete; nothing learned is written");
  if (!stopping && !(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0))
    return failure(m.process.command[0] + " " + describe_status(child_status) +
                   " on its own: a failed run teaches an incomplete list; nothing learned is written");
  (void)timed_out;
  result.identity = identity(m);
  result.ended = !stopping ? describe_status(child_status)
                 : probe > 0 ? "stopped after the probe succeeded"
                             : "stopped after " + std::to_string(options.timeout_ms) + " ms";
  return result;
}

}  // namespace nestbox::learn
