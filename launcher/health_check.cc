#include "launcher/health_check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "launcher/lifecycle.h"
#include "util/fd.h"

namespace nestbox::launcher {
namespace {

long long now_ms() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<long long>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

}  // namespace

std::string run_health_check(const std::string& state_root, const std::string& name,
                             const policy::Health& health) {
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return "could not run: open /dev/null failed";
  // Its own process: exec_in_container waits for the command without a time
  // limit, and the caller must not wait longer than the check's timeout.
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
    req.stderr_fd = 2;
    auto code = exec_in_container(state_root, name, req);
    if (!code.ok()) {
      std::string msg = "nestbox-launch: " + name + ": health check: " + code.error().message + "\n";
      (void)!::write(2, msg.data(), msg.size());
      ::_exit(255);
    }
    ::_exit(*code);
  }
  long long deadline = now_ms() + health.timeout_ms;
  int status = 0;
  for (;;) {
    pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) break;
    if (got < 0 && errno != EINTR) return "could not run: waitpid failed";
    if (now_ms() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return "did not finish within " + std::to_string(health.timeout_ms) + " ms";
    }
    timespec tick{0, 5000000};
    ::nanosleep(&tick, nullptr);
  }
  if (!WIFEXITED(status)) return "ended by signal " + std::to_string(WTERMSIG(status));
  int code = WEXITSTATUS(status);
  if (code == 255) return "exited 255 (or could not run, see the line above)";
  return code == 0 ? "" : "exited " + std::to_string(code);
}

}  // namespace nestbox::launcher
