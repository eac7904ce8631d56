// The [health] check of a trial install: run inside the running container, as
// `exec` runs a command, and judged by its exit status within its timeout.
#pragma once

#include <string>

#include "policy/policy.h"

namespace nestbox::launcher {

// Runs `health.argv` in running container `name` (<state_root>/<name>) with
// stdin and stdout on /dev/null; what it writes to stderr reaches the
// caller's stderr quoted (each line prefixed "nestbox-launch: NAME: health
// check said: ", control and non-ASCII bytes as '?', at most 2 KiB). Returns "" when
// it exited 0 within `health.timeout_ms`, else why not ("exited 1", "did
// not finish within 300 ms", "could not run: ..."). A check still running at
// its timeout is killed then, with everything it started (it runs in a cgroup
// of its own below the container's), not left to the rollback's stop; what
// it started and left running when it ended in time is killed as well.
std::string run_health_check(const std::string& state_root, const std::string& name,
                             const policy::Health& health);

}  // namespace nestbox::launcher
