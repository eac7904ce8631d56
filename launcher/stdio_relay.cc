#include "launcher/stdio_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <utility>
#include <vector>

#include "launcher/fds.h"
#include "util/fd.h"
#include "util/file_io.h"

namespace nestbox::launcher {
namespace {

bool is_null_device(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3); }

// Whether the container may hold `fd` as it is: an anonymous pipe, a socket
// (both inodes of the kernel's, reachable by no path) or the null device
// (replaced inside the container, replace_host_null). Everything else is an
// inode of the host's that a container running as the host's root owns: a
// regular file, a device, a named FIFO (chmod 0666 hands the caller's stream
// to every user) and a terminal above all (chmod/chown of the caller's pty or
// the console, TIOCSTI once it made the terminal its controlling one,
// TIOCSETD, vhangup): relayed, so the container sees a pipe.
bool passes_as_is(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return false;
  if (S_ISSOCK(st.st_mode) || is_null_device(st)) return true;
  if (!S_ISFIFO(st.st_mode)) return false;
  struct statfs fs;
  return ::fstatfs(fd, &fs) == 0 && fs.f_type == PIPEFS_MAGIC;
}

// `2>&1`: one pipe for both, so their order in the file stays as written.
bool same_description(int a, int b) {
  long r = ::syscall(SYS_kcmp, ::getpid(), ::getpid(), 0 /* KCMP_FILE */, a, b);
  if (r >= 0) return r == 0;
  struct stat sa, sb;  // no kcmp in this kernel: the same file is taken as the same description
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

[[noreturn]] void copy_input(int from, int to) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || !write_all(to, buf, static_cast<size_t>(n), "").ok()) break;
  }
  ::_exit(0);
}

// Each stream: {the pipe's read end, the host's descriptor}.
[[noreturn]] void copy_outputs(const std::vector<std::pair<int, int>>& streams) {
  std::vector<pollfd> p;
  for (const auto& s : streams) p.push_back({s.first, POLLIN, 0});
  size_t open = p.size();
  char buf[65536];
  while (open > 0) {
    if (::poll(p.data(), p.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        p[i].fd = -1;  // poll skips negative descriptors
        --open;
        continue;
      }
      // A full disk loses output, never the relay (the container would block).
      (void)write_all(streams[i].second, buf, static_cast<size_t>(n), "");
    }
  }
  ::_exit(0);
}

}  // namespace

// The relay lives until its pipes say the writers are gone: the terminal's
// SIGINT or a SIGTERM meant for the launcher must not cut the container's
// last words off, nor make its writes fail.
void become_relay(const char* name, std::vector<int> keep) {
  ::prctl(PR_SET_NAME, name, 0, 0, 0);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU}) ::signal(sig, SIG_IGN);
  if (!close_all_above_stdio_except(std::move(keep)).ok()) ::_exit(126);
}

StdioRelay::StdioRelay(StdioRelay&& other) noexcept
    : input_(std::exchange(other.input_, -1)), output_(std::exchange(other.output_, -1)) {}

StdioRelay& StdioRelay::operator=(StdioRelay&& other) noexcept {
  if (this != &other) {
    finish();
    input_ = std::exchange(other.input_, -1);
    output_ = std::exchange(other.output_, -1);
  }
  return *this;
}

StdioRelay::~StdioRelay() { finish(); }

Result<StdioRelay> StdioRelay::start() {
  StdioRelay relay;
  bool relay_in = !passes_as_is(0), relay_out = !passes_as_is(1), relay_err = !passes_as_is(2);
  if (relay_in) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe for standard input");
    UniqueFd read_end(p[0]), write_end(p[1]);
    pid_t pid = ::fork();
    if (pid < 0) return sys_error("fork the standard input relay");
    if (pid == 0) {
      become_relay("nestbox-relay", {write_end.get()});
      copy_input(0, write_end.get());
    }
    relay.input_ = pid;
    if (::dup2(read_end.get(), 0) < 0) return sys_error("dup2 standard input");
  }
  if (relay_out || relay_err) {
    bool shared = relay_out && relay_err && same_description(1, 2);
    std::vector<std::pair<int, int>> streams;  // {read end, host fd} as the relay sees them
    std::vector<UniqueFd> ends;                // {read, write} per pipe
    for (int fd : {1, 2}) {
      if (!(fd == 1 ? relay_out : relay_err) || (fd == 2 && shared)) continue;
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe for standard output");
      ends.emplace_back(p[0]);
      ends.emplace_back(p[1]);
      streams.push_back({p[0], fd});
    }
    pid_t pid = ::fork();
    if (pid < 0) return sys_error("fork the output relay");
    if (pid == 0) {
      std::vector<int> keep;
      for (const auto& s : streams) keep.push_back(s.first);
      become_relay("nestbox-relay", keep);
      ::close(0);  // the input pipe's read end, when there is one: its reader is the container
      copy_outputs(streams);
    }
    relay.output_ = pid;
    size_t i = 0;
    for (int fd : {1, 2}) {
      if (!(fd == 1 ? relay_out : relay_err)) continue;
      int write_end = ends[fd == 2 && shared ? 1 : 2 * i + 1].get();
      if (::dup2(write_end, fd) < 0) return sys_error("dup2 standard output");
      if (!(fd == 2 && shared)) ++i;
    }
  }
  return relay;
}

void StdioRelay::finish(int grace_ms) {
  if (input_ < 0 && output_ < 0) return;
  std::fflush(stdout);
  std::fflush(stderr);
  // The launcher's ends go: the output relay sees the end of what it copies
  // once the container's are gone too (they are: its processes have ended).
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3; ++fd) {
    if (null >= 0)
      ::dup2(null, fd);
    else
      ::close(fd);
  }
  if (null >= 0) ::close(null);
  if (input_ > 0) {
    ::kill(input_, SIGKILL);  // may sit in a read nobody waits for any more
    while (::waitpid(input_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  if (output_ > 0 && grace_ms >= 0) {
    // The container's processes are gone and with them their write ends;
    // one that reached a process outside it (passed over a socket to a
    // container joined to its network namespace) must not keep the launcher
    // here: what arrives within the grace period is copied, then the relay
    // is stopped.
    for (int waited = 0; waited < grace_ms; waited += 10) {
      pid_t r = ::waitpid(output_, nullptr, WNOHANG);
      if (r == output_ || (r < 0 && errno != EINTR)) {
        output_ = -1;
        break;
      }
      timespec tick{0, 10 * 1000000L};
      ::nanosleep(&tick, nullptr);
    }
    if (output_ > 0) ::kill(output_, SIGKILL);
  }
  if (output_ > 0)
    while (::waitpid(output_, nullptr, 0) < 0 && errno == EINTR) {
    }
  input_ = output_ = -1;
}

Status replace_host_null() {
  UniqueFd own;
  for (int fd = 0; fd < 3; ++fd) {
    struct stat st;
    if (::fstat(fd, &st) != 0 || !is_null_device(st)) continue;
    if (!own) {
      // Never blocking on a FIFO, never through a link: a joined namespace's
      // /dev is another container's.
      own.reset(::open("/dev/null", O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
      struct stat ours;
      if (!own || ::fstat(own.get(), &ours) != 0 || !is_null_device(ours))
        return failure("the container's /dev/null is not the null device (1:3): it cannot take the place of the "
                       "host's on standard descriptor " + std::to_string(fd));
      if (::fcntl(own.get(), F_SETFL, O_RDWR) != 0) return sys_error("fcntl /dev/null");
    }
    if (::dup2(own.get(), fd) < 0) return sys_error("dup2 /dev/null");
  }
  return {};
}

}  // namespace nestbox::launcher
