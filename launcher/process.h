// The last steps of every container process (run, services, exec): ids,
// capabilities, limits, labels, seccomp, then exec. And the minimal init of
// the `process` model.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "launcher/profile.h"
#include "util/result.h"

namespace nestbox::launcher {

// Applies `profile` in crun's order and execs argv. Returns only on failure;
// the caller reports the error and exits (privileges may be half-dropped).
Error become_and_exec(const ExecProfile& profile, const std::vector<std::string>& argv);

// Signals the init forwards to the main process (blocked before forking it).
sigset_t forwarded_signals();

// pid 1 of the `process` model: reaps every zombie, forwards signals to
// `main`, returns main's status as an exit code (128 + signal if killed).
int run_init(pid_t main);

int exit_code(int wait_status);

}  // namespace nestbox::launcher
