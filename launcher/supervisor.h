// nestbox's init for model = "system" when the container has no init of its
// own: pid 1 starts every [[process.service]], restarts one that ends (back-off
// doubling from restart_delay_ms up to policy::kServiceMaxDelayMs, at most
// restart_limit times in a row; a run of policy::kServiceStableMs or more starts
// the count again), forwards SIGTERM/SIGINT to every service and ends when they
// have, forwards SIGHUP/SIGUSR1/SIGUSR2 (reload), reaps every zombie, and relays
// each service's stdout/stderr.
//
// Each service writes to pipes of its own (created inside the container's user
// namespace, mode 0622): a service that drops to another user can still reopen
// /dev/stdout or /dev/stderr (/proc/self/fd/N), which it could not with the
// launcher's descriptors (host files, pipes or ttys owned by the host's root),
// and nothing of the host's is chowned to the container. The init copies what
// they write to its own stdout/stderr (the launcher's).
//
// The launcher learns each change over `report_fd`, one line per write (below
// PIPE_BUF, so never torn):
//   "S NAME STATE RESTARTS\n"  STATE: running, backoff, exited, failed, stopping, stopped
//   "F NAME REASON\n"          the service failed for good: the container stops
// Call order: Supervisor(...) -> start() -> close what the init must not keep
// (all but fds()) -> run().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

// Forks one service with `out`/`err` as its stdout/stderr; its pid, or -1.
using SpawnService = std::function<pid_t(const policy::Service&, int out, int err)>;

class Supervisor {
 public:
  Supervisor(const std::vector<policy::Service>& services, SpawnService spawn, int report_fd);
  // Blocks the signals it takes (signalfd), makes the pipes, starts every service.
  Status start();
  // The descriptors run() needs; everything else above 2 may be closed.
  std::vector<int> fds() const;
  // Until the end: 0 after a stop or once every service ended for good, 1
  // when one failed (reported with "F").
  int run();

 private:
  enum class State { kRunning, kBackoff, kExited, kFailed, kStopping, kStopped };
  struct Slot {
    const policy::Service* svc = nullptr;
    pid_t pid = -1;
    State state = State::kBackoff;
    int64_t started_ms = 0, restart_at_ms = -1;
    uint32_t in_a_row = 0, restarts = 0;
    UniqueFd out_r, out_w, err_r, err_w;
  };
  bool launch(Slot& s);
  void ended(Slot& s, int wait_status);
  void stop_all(int sig);
  void report(const Slot& s);
  void relay(int from, int to);
  int64_t next_deadline() const;
  bool done() const;

  std::vector<Slot> slots_;
  SpawnService spawn_;
  int report_fd_;
  UniqueFd signals_;
  bool stopping_ = false, failed_ = false;
};

}  // namespace nestbox::launcher
