// The container side of a launch: runs in the cloned child, in its new
// namespaces, with host privileges until it enters the user namespace.
#pragma once

#include <vector>

#include "launcher/cgroups.h"
#include "launcher/launcher.h"
#include "launcher/mounts.h"
#include "launcher/profile.h"
#include "util/fd.h"

namespace nestbox::launcher {

struct ChildPlan {
  const policy::Policy* policy = nullptr;
  const RootfsSource* source = nullptr;
  const Options* options = nullptr;
  RootDevices devices;
  ExecProfile profile;
  const Cgroup* cgroup = nullptr;  // joined by the container itself, first thing
  bool wait_for_go = false;        // the launcher has work to do first (network)
  int sync_fd = -1;
  int report_fd = -1;              // nestbox's init → launcher: service states (supervisor.h)
  std::vector<UniqueFd>* joins = nullptr;
};

// Never returns: execs the container's process, or reports the error on the
// sync channel and exits 1.
[[noreturn]] void container_main(const ChildPlan& plan);

}  // namespace nestbox::launcher
