// A running container's first process, pinned while its namespaces are opened.
//
// The state directory names the init by pid ("init") and by start time
// ("init_start": field 22 of /proc/PID/stat, clock ticks since boot). A pid
// alone names whatever process holds the number now: once the init has exited
// and been reaped (the container stopping, its launcher killed, a stale state
// directory), the number can belong to any host process, and opening
// /proc/PID/ns/* would hand `exec` or a joining container the host's
// namespaces. So the init is pinned with a pidfd, its start time compared
// with the recorded one, its namespaces opened, and only then is the pidfd
// asked whether the process still lives: a pid is not reused while its
// process exists, so every namespace opened in between is the init's.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "policy/policy.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

// A pidfd for `pid` (invalid where the kernel has none: before 5.3, errno ENOSYS).
UniqueFd pin_process(pid_t pid);
// Sends `signal` with `value` (as sigqueue does) to the process `pidfd` names:
// never to another process that got its number since.
Status signal_pinned(const UniqueFd& pidfd, int signal, int value);

// Field 22 of /proc/PID/stat, as text.
Result<std::string> process_start_time(pid_t pid);

// The namespaces of running container `name` (<state_root>/<name>) whose
// `wanted[index]` is set, as fds by NsIndex (invalid where not wanted).
// Refused unless its launcher holds the state lock and the recorded init is
// the process that was open throughout.
Result<std::vector<UniqueFd>> open_running_namespaces(const std::string& state_root,
                                                      const std::string& name,
                                                      const bool (&wanted)[policy::kNsCount]);

}  // namespace nestbox::launcher
