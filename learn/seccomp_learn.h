// Learning a seccomp allow-list at build time (`nestbox learn-seccomp`): the
// container's command runs in its composed rootfs, confined as its manifest
// says (namespaces, user and group, user-namespace map, capabilities,
// no_new_privs), under a filter whose only action is SECCOMP_RET_USER_NOTIF.
// This process is the filter's supervisor: it records the architecture and
// number of every system call and lets it continue
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE). No audit subsystem, no ptrace.
// Host only (root: namespaces, mounts, the user-namespace maps).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "manifests/manifest.h"
#include "util/result.h"

namespace nestbox::learn {

struct LearnOptions {
  std::string root;         // the composed rootfs tree (`nestbox compose --strategy tree`)
  std::string probe;        // shell command run on the host, in the container's network namespace
  int timeout_ms = 10000;   // stop the container after this long (without a probe, or if it hangs)
};

struct LearnResult {
  // Architecture name ("x86_64", "i386", "x32", ...) -> syscall names seen.
  // A number libseccomp has no name for is kept as "#NR".
  std::map<std::string, std::set<std::string>> syscalls;
  uint64_t notifications = 0;
  std::string identity;     // how the command ran, for the fragment's header
  std::string ended;        // how the run ended ("exited with status 0", "stopped after the probe")
};

// Runs the manifest's process.command (model "process"; for model "system",
// the init command) in `options.root` and returns what it called. Fails when the
// container could not be set up, when the command failed on its own (exit
// status not 0 before it was stopped) or when the probe failed: a list learned
// from a run that did not work is not a list to ship.
Result<LearnResult> learn_seccomp(const manifests::Manifest& manifest, const LearnOptions& options);

// The TOML fragment for the developer: a comment header, then
// `[seccomp]\nallow = [...]` (sorted) for the manifest's arch; the other
// architectures seen are listed as comments.
std::string render_allow_list(const manifests::Manifest& manifest, const LearnOptions& options,
                              const LearnResult& result);

}  // namespace nestbox::learn
