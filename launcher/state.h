// The state directory of a running container, <state_root>/<name>/:
//   lock      flock()ed exclusively by the launcher while it runs
//   pid       the launcher's pid (signal it to stop the container)
//   init      the container's first process, host pid
//   init_start its start time (running_init.h: a pid alone may be reused)
//   cgroups   Cgroup::describe()
//   freezer   1 if the policy allows freezing
//   exec      ExecProfile for `exec`
//   services  one line per service of nestbox's init: "NAME STATE RESTARTS"
//   ns/<type> symlinks to /proc/<init>/ns/<type>, for OCI runtimes' joins
//             (exec and nestbox's own joins pin the init: running_init.h)
//   root, lower0, lower1, upper   mount points (used only inside the container's mount ns)
// Removed by the owner's destructor; a directory whose lock is free is stale.
#pragma once

#include <sys/types.h>

#include <string>

#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

// Container names: [A-Za-z0-9._-], 1..64, not starting with '.'.
Status check_name(const std::string& name);

class StateDir {
 public:
  static Result<StateDir> create(const std::string& state_root, const std::string& name);
  StateDir(StateDir&& other) noexcept;
  StateDir& operator=(StateDir&&) = delete;
  ~StateDir();

  const std::string& path() const { return path_; }
  Status write(const std::string& file, const std::string& content) const;
  Status link_namespaces(pid_t init) const;

 private:
  StateDir(std::string path, UniqueFd lock) : path_(std::move(path)), lock_(std::move(lock)) {}
  std::string path_;
  UniqueFd lock_;
};

// True if a launcher holds the lock of <state_root>/<name>.
bool is_running(const std::string& dir);
// Removes everything a StateDir may hold (stale or own).
void remove_state(const std::string& dir);

}  // namespace nestbox::launcher
