// SignalBlock: blocks the supervision signals (SIGCHLD, SIGTERM, SIGINT,
// SIGHUP) while it lives, so that a supervisor takes them synchronously with
// sigwaitinfo/sigtimedwait instead of in handlers, and restores the previous
// mask when it goes. `run` drops what is still pending for its launch before
// unblocking (the container's SIGCHLD, a stop request during a failed setup:
// that launch is over); `boot` keeps it.
#pragma once

#include <signal.h>

namespace nestbox::launcher {

class SignalBlock {
 public:
  enum class Pending { kKeep, kDrop };

  explicit SignalBlock(Pending on_exit = Pending::kKeep) : on_exit_(on_exit) {
    sigemptyset(&set_);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set_, sig);
    ::sigprocmask(SIG_BLOCK, &set_, &old_);
  }
  ~SignalBlock() {
    if (on_exit_ == Pending::kDrop) {
      timespec zero{0, 0};
      while (::sigtimedwait(&set_, nullptr, &zero) > 0) {
      }
    }
    ::sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  SignalBlock(const SignalBlock&) = delete;
  SignalBlock& operator=(const SignalBlock&) = delete;

  const sigset_t& set() const { return set_; }
  const sigset_t& old() const { return old_; }  // for a child to restore after fork

 private:
  Pending on_exit_;
  sigset_t set_, old_;
};

}  // namespace nestbox::launcher
