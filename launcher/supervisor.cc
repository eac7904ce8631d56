#include "launcher/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "launcher/process.h"

namespace nestbox::launcher {
namespace {

int64_t now_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

const char* state_name(int s) {
  static const char* const kNames[] = {"running", "backoff", "exited", "failed", "stopping", "stopped"};
  return kNames[s];
}

sigset_t taken_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
  return set;
}

std::string how_it_ended(int wait_status) {
  if (WIFSIGNALED(wait_status)) return "killed by signal " + std::to_string(WTERMSIG(wait_status));
  return "exited with status " + std::to_string(WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1);
}

void write_line(int fd, const std::string& line) {
  if (fd < 0) return;
  std::string l = line.size() < 512 ? line : line.substr(0, 511);
  if (l.back() != '\n') l.push_back('\n');
  while (::write(fd, l.data(), l.size()) < 0 && errno == EINTR) {
  }
}

}  // namespace

Supervisor::Supervisor(const std::vector<policy::Service>& services, SpawnService spawn, int report_fd)
    : spawn_(std::move(spawn)), report_fd_(report_fd) {
  slots_.resize(services.size());
  for (size_t i = 0; i < services.size(); ++i) slots_[i].svc = &services[i];
}

Status Supervisor::start() {
  sigset_t set = taken_signals();
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return sys_error("block signals");
  signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals_) return sys_error("signalfd");
  // The report pipe must never kill the init (SIGPIPE) when the launcher is gone.
  ::signal(SIGPIPE, SIG_IGN);
  for (Slot& s : slots_) {
    for (auto [r, w] : {std::pair{&s.out_r, &s.out_w}, std::pair{&s.err_r, &s.err_w}}) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe for service " + s.svc->name);
      r->reset(p[0]);
      w->reset(p[1]);
      // The service may drop to any user and reopen /proc/self/fd/1 or 2:
      // anyone may write these pipes (only through the service's own fds,
      // which ptrace access guards), only the init reads them.
      if (::fchmod(p[1], 0622) != 0) return sys_error("chmod service pipe");
      if (::fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) return sys_error("nonblocking service pipe");
    }
    if (!launch(s)) return sys_error("fork service " + s.svc->name);
  }
  return {};
}

std::vector<int> Supervisor::fds() const {
  std::vector<int> keep{signals_.get()};
  if (report_fd_ >= 0) keep.push_back(report_fd_);
  for (const Slot& s : slots_)
    for (const UniqueFd* f : {&s.out_r, &s.out_w, &s.err_r, &s.err_w}) keep.push_back(f->get());
  return keep;
}

bool Supervisor::launch(Slot& s) {
  pid_t pid = spawn_(*s.svc, s.out_w.get(), s.err_w.get());
  if (pid < 0) return false;
  s.pid = pid;
  s.state = State::kRunning;
  s.started_ms = now_ms();
  s.restart_at_ms = -1;
  report(s);
  return true;
}

void Supervisor::report(const Slot& s) {
  write_line(report_fd_, "S " + s.svc->name + " " + state_name(static_cast<int>(s.state)) + " " +
                             std::to_string(s.restarts));
}

void Supervisor::stop_all(int sig) {
  stopping_ = true;
  for (Slot& s : slots_) {
    if (s.pid > 0) {
      ::kill(s.pid, sig);
      if (s.state == State::kRunning) {
        s.state = State::kStopping;
        report(s);
      }
    } else if (s.state == State::kBackoff) {
      s.state = State::kStopped;
      s.restart_at_ms = -1;
      report(s);
    }
  }
}

void Supervisor::ended(Slot& s, int wait_status) {
  s.pid = -1;
  if (stopping_) {
    s.state = State::kStopped;
    report(s);
    return;
  }
  bool clean = WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
  const policy::Service& svc = *s.svc;
  bool again = svc.restart == policy::Restart::kAlways ||
               (svc.restart == policy::Restart::kOnFailure && !clean);
  if (!again) {
    s.state = clean ? State::kExited : State::kFailed;
  } else {
    // A run long enough to count as "up" starts the count again.
    if (now_ms() - s.started_ms >= policy::kServiceStableMs) s.in_a_row = 0;
    if (s.in_a_row >= svc.restart_limit) {
      s.state = State::kFailed;
    } else {
      ++s.in_a_row;
      ++s.restarts;
      uint64_t delay = svc.restart_delay_ms;
      for (uint32_t i = 1; i < s.in_a_row && delay < policy::kServiceMaxDelayMs; ++i) delay *= 2;
      s.state = State::kBackoff;
      s.restart_at_ms = now_ms() + static_cast<int64_t>(std::min<uint64_t>(delay, policy::kServiceMaxDelayMs));
    }
  }
  report(s);
  if (s.state != State::kFailed) return;
  std::string why = how_it_ended(wait_status);
  if (again)
    why += "; restarted " + std::to_string(s.in_a_row) + " times in a row (restart_limit " +
           std::to_string(svc.restart_limit) + ")";
  write_line(report_fd_, "F " + svc.name + " " + why);
  std::string msg = "nestbox-init: service " + svc.name + " failed: " + why + "\n";
  (void)!::write(2, msg.data(), msg.size());
  failed_ = true;
  stop_all(SIGTERM);
}

void Supervisor::relay(int from, int to) {
  char buf[4096];
  for (int i = 0; i < 16; ++i) {  // bounded: one chatty service cannot starve the loop
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n <= 0) return;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;  // the launcher's stdio is gone: drop the output
      off += w;
    }
  }
}

int64_t Supervisor::next_deadline() const {
  int64_t next = -1;
  for (const Slot& s : slots_)
    if (s.state == State::kBackoff && s.restart_at_ms >= 0 && (next < 0 || s.restart_at_ms < next))
      next = s.restart_at_ms;
  return next;
}

bool Supervisor::done() const {
  return std::none_of(slots_.begin(), slots_.end(), [](const Slot& s) {
    return s.pid > 0 || s.state == State::kBackoff;
  });
}

int Supervisor::run() {
  std::vector<pollfd> pfds;
  while (!done()) {
    pfds.clear();
    pfds.push_back({signals_.get(), POLLIN, 0});
    for (const Slot& s : slots_) {
      pfds.push_back({s.out_r.get(), POLLIN, 0});
      pfds.push_back({s.err_r.get(), POLLIN, 0});
    }
    int64_t deadline = next_deadline();
    int timeout = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    if (::poll(pfds.data(), pfds.size(), timeout) < 0 && errno != EINTR) return 1;
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (pfds[1 + 2 * i].revents) relay(slots_[i].out_r.get(), 1);
      if (pfds[2 + 2 * i].revents) relay(slots_[i].err_r.get(), 2);
    }
    signalfd_siginfo si;
    while (::read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGTERM || sig == SIGINT) {
        stop_all(SIGTERM);
      } else if (sig != SIGCHLD) {
        for (Slot& s : slots_)
          if (s.pid > 0) ::kill(s.pid, sig);
      }
    }
    // pid 1 reaps every process of the namespace, services or not.
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
      for (Slot& s : slots_)
        if (s.pid == pid) ended(s, status);
    int64_t now = now_ms();
    for (Slot& s : slots_)
      if (s.state == State::kBackoff && s.restart_at_ms >= 0 && s.restart_at_ms <= now && !stopping_)
        if (!launch(s)) {
          s.state = State::kFailed;
          report(s);
          write_line(report_fd_, "F " + s.svc->name + " fork failed: " + std::strerror(errno));
          failed_ = true;
          stop_all(SIGTERM);
        }
  }
  // What the services wrote last.
  for (const Slot& s : slots_) {
    relay(s.out_r.get(), 1);
    relay(s.err_r.get(), 2);
  }
  return failed_ ? 1 : 0;
}

}  // namespace nestbox::launcher
