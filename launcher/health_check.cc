#include "launcher/health_check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "launcher/lifecycle.h"
#include "util/fd.h"

namespace nestbox::launcher {
namespace {

long long now_ms() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<long long>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

// What a check wrote to its stderr. It comes from inside the container, so
// it reaches the launcher's log (procd's, syslog) only as quoted text: each
// line prefixed with the container's name, control and non-ASCII bytes
// shown as '?', and at most kKeep bytes (a container must not be able to
// write a line that reads like one of the launcher's own, or flood the log).
class CheckOutput {
 public:
  static constexpr size_t kKeep = 2048;

  // Reads what is there now (the fd is non-blocking), at most 64 KiB per
  // call: a container writing without end must not keep the launcher here
  // past the check's deadline.
  void drain(int fd) {
    char buf[4096];
    for (int reads = 0; reads < 16; ++reads) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      size_t take = std::min(static_cast<size_t>(n), kKeep - std::min(kKeep, text_.size()));
      text_.append(buf, take);
      dropped_ += static_cast<size_t>(n) - take;
    }
  }

  void report(const std::string& name) const {
    std::string out, line;
    auto flush = [&] {
      out += "nestbox-launch: " + name + ": health check said: " + line + "\n";
      line.clear();
    };
    for (unsigned char c : text_) {
      if (c == '\n') flush();
      else line += c == '\t' ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
    }
    if (!line.empty()) flush();
    if (dropped_ > 0)
      out += "nestbox-launch: " + name + ": health check said " + std::to_string(dropped_) +
             " more bytes, not shown\n";
    if (!out.empty()) (void)!::write(2, out.data(), out.size());
  }

 private:
  std::string text_;
  size_t dropped_ = 0;
};

// How long past the check's timeout its own process is given to kill the
// command (exec_in_container's run_timeout_ms) and remove its cgroup
// (Cgroup::remove: kill rounds, then up to 2 s of rmdir retries) before it
// is killed itself.
constexpr long long kBackstopMs = 5000;

std::string timed_out(const policy::Health& health) {
  return "did not finish within " + std::to_string(health.timeout_ms) + " ms";
}

// Waits for the check `pid` until its deadline, collecting its output. Its
// process ends by SIGKILL only when the command did not finish in time (it
// kills itself once it has killed the command, or we kill it).
std::string await_check(pid_t pid, int output_fd, const policy::Health& health, CheckOutput* said) {
  long long deadline = now_ms() + health.timeout_ms + kBackstopMs;
  int status = 0;
  for (;;) {
    said->drain(output_fd);
    pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) break;
    if (got < 0 && errno != EINTR) return "could not run: waitpid failed";
    if (now_ms() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return timed_out(health);
    }
    timespec tick{0, 5000000};
    ::nanosleep(&tick, nullptr);
  }
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return timed_out(health);
  if (!WIFEXITED(status)) return "ended by signal " + std::to_string(WTERMSIG(status));
  int code = WEXITSTATUS(status);
  if (code == 255) return "exited 255 (or could not run, see the line above)";
  return code == 0 ? "" : "exited " + std::to_string(code);
}

}  // namespace

std::string run_health_check(const std::string& state_root, const std::string& name,
                             const policy::Health& health) {
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return "could not run: open /dev/null failed";
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return "could not run: pipe failed";
  UniqueFd said_r(pipe_fds[0]), said_w(pipe_fds[1]);
  if (::fcntl(said_r.get(), F_SETFL, O_NONBLOCK) != 0) return "could not run: fcntl failed";
  // Its own process: the caller must not wait longer than the check's
  // timeout (plus kBackstopMs) whatever happens inside exec_in_container.
  pid_t pid = ::fork();
  if (pid < 0) return "could not run: fork failed";
  if (pid == 0) {
    // `boot` blocks its signals to wait for them: the check must not inherit
    // that mask (execve keeps it), or it would ignore a SIGTERM it relies on.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ExecRequest req;
    req.argv = health.argv;
    req.stdin_fd = req.stdout_fd = null.get();
    req.stderr_fd = said_w.get();
    req.run_timeout_ms = health.timeout_ms;  // the command and its group die at the timeout
    auto code = exec_in_container(state_root, name, req);
    if (!code.ok() && code.error().sys_errno == ETIMEDOUT) ::kill(::getpid(), SIGKILL);
    if (!code.ok()) {
      std::string msg = "nestbox-launch: " + name + ": health check: " + code.error().message + "\n";
      (void)!::write(2, msg.data(), msg.size());
      ::_exit(255);
    }
    ::_exit(*code);
  }
  said_w = UniqueFd();  // the check (and the container) hold the only write ends
  CheckOutput said;
  std::string verdict = await_check(pid, said_r.get(), health, &said);
  said.drain(said_r.get());
  said.report(name);
  return verdict;
}

}  // namespace nestbox::launcher
