#include "util/pidfd.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434  // the same number on every architecture
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace nestbox {

UniqueFd pidfd_open(pid_t pid) { return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

int pidfd_signal(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

Result<OwnedChild> OwnedChild::fork() {
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  OwnedChild child;
  if (pid == 0) return child;
  child.pid_ = pid;
  // Race-free: the child is not reaped, so its pid names it.
  child.pidfd_ = pidfd_open(pid);
  return child;
}

OwnedChild::OwnedChild(OwnedChild&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)), pidfd_(std::move(other.pidfd_)) {}

OwnedChild& OwnedChild::operator=(OwnedChild&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) kill_and_reap();
    pid_ = std::exchange(other.pid_, 0);
    pidfd_ = std::move(other.pidfd_);
  }
  return *this;
}

OwnedChild::~OwnedChild() {
  if (pid_ > 0) kill_and_reap();
}

int OwnedChild::reap() {
  int status = 0;
  if (pid_ <= 0) return status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = 0;
  pidfd_.reset();
  return status;
}

int OwnedChild::kill_and_reap() {
  if (pid_ <= 0) return 0;
  if (!pidfd_ || pidfd_signal(pidfd_.get(), SIGKILL) != 0) ::kill(pid_, SIGKILL);  // unreaped: still ours
  return reap();
}

}  // namespace nestbox
