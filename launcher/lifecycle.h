// Operations on running containers through their state directories:
// status/list, stop (SIGTERM to the launcher, which stops gracefully), freeze
// and thaw (cgroup freezer), exec (join every namespace and the cgroup, then
// the same ids, capabilities and seccomp as the main process).
#pragma once

#include <string>
#include <vector>

#include "launcher/service_board.h"
#include "util/result.h"

namespace nestbox::launcher {

struct ContainerStatus {
  std::string name;
  std::string state;  // "running", "frozen"
  int launcher_pid = 0, init_pid = 0;
  std::vector<std::string> cgroups;
  std::vector<ServiceStatus> services;  // nestbox's init's services (model system)
};

Result<ContainerStatus> container_status(const std::string& state_root, const std::string& name);
// Running containers, sorted by name.
Result<std::vector<ContainerStatus>> list_containers(const std::string& state_root);
std::string to_json(const ContainerStatus& s);
std::string to_json(const std::vector<ContainerStatus>& list);

// Returns once the launcher has finished cleaning up (or fails after wait_ms).
// stop_timeout_ms >= 0 replaces the launcher's own --stop-timeout (queued with
// the SIGTERM); -1 leaves it.
Status stop_container(const std::string& state_root, const std::string& name, int wait_ms,
                      int stop_timeout_ms = -1);
// After a launcher died (SIGKILL: no destructor ran): if nobody holds the
// container's lock, kills what is left in its recorded cgroups and removes
// them and the state directory. True if there was something to clear.
bool clear_stale(const std::string& state_root, const std::string& name);

Status freeze_container(const std::string& state_root, const std::string& name, bool frozen);

// How long `exec` waits for its command to start (execve) by default.
inline constexpr int kExecStartTimeoutMs = 10000;

struct ExecRequest {
  std::vector<std::string> argv;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  // From the fork to the command's execve every step is bounded by this:
  // the process is in the container's pid namespace and, once it has joined
  // the user namespace, its root can stop it (SIGSTOP) or stall it. Past it
  // the process is killed and exec fails. The command itself, once running,
  // is waited for without a limit (it is what the caller asked to run).
  int start_timeout_ms = kExecStartTimeoutMs;
  // When > 0 (a health check), the command's whole run, from the fork, is
  // bounded too: past it the command's process group (its session: it is the
  // leader) and the command are killed and exec fails with sys_errno
  // ETIMEDOUT. Killing only the process that ran it would leave the command
  // running in the container, and with pid = "host" in the host's pid
  // namespace, after its caller gave up on it. Such a command runs in a
  // cgroup of its own below the container's (Cgroup::sub): when exec
  // returns, whatever it started is killed too, also in another session.
  int run_timeout_ms = 0;
};
// Runs argv inside the container; returns its exit code (128 + signal).
Result<int> exec_in_container(const std::string& state_root, const std::string& name,
                              const ExecRequest& request);

}  // namespace nestbox::launcher
