// Processes named by a pidfd. A pid names whatever process holds the number
// now: once its process has exited and been reaped, the number can belong to
// any other (a host process, a process of another container). A pidfd names
// one process for as long as it is open: a signal sent through it reaches that
// process or none, and it polls readable once that process has exited.
// pidfd_send_signal is Linux 5.1, pidfd_open and polling 5.3; before, the
// calls fail with ENOSYS.
#pragma once

#include <sys/types.h>

#include "util/fd.h"
#include "util/result.h"

namespace nestbox {

// A pidfd for `pid`, or an invalid one with errno (ESRCH: no such process;
// ENOSYS: before 5.3).
UniqueFd pidfd_open(pid_t pid);
// pidfd_send_signal(2) without a siginfo: 0, or -1 with errno (ESRCH: the
// process has been reaped). Also takes an fd of a /proc/<pid> directory.
int pidfd_signal(int pidfd, int signal);

// A child this process forked: SIGKILLed and reaped by the destructor unless
// reaped before. An unreaped child keeps its pid, so the pid names it too;
// the pidfd is what a poll() with a timeout waits on.
// Call order: fork() -> (child: pid() == 0) -> poll on pidfd() with a
// deadline and/or reap() -> destroy.
class OwnedChild {
 public:
  OwnedChild() = default;
  // fork(). In the parent: the child's pid and pidfd (invalid before 5.3).
  // In the child: an empty owner (pid() == 0) that does nothing.
  static Result<OwnedChild> fork();
  OwnedChild(OwnedChild&& other) noexcept;
  OwnedChild& operator=(OwnedChild&& other) noexcept;
  OwnedChild(const OwnedChild&) = delete;
  OwnedChild& operator=(const OwnedChild&) = delete;
  ~OwnedChild();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }  // -1 in the child, or before 5.3
  // Waits for the child's end without a time limit; its wait status.
  int reap();
  // SIGKILL (it ends even when stopped) and reap; its wait status.
  int kill_and_reap();

 private:
  pid_t pid_ = 0;
  UniqueFd pidfd_;
};

}  // namespace nestbox
