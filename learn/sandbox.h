// The child side of `nestbox learn-seccomp`: confines the calling process as
// the manifest says and enters the composed rootfs. Runs in a freshly cloned
// child (new mount namespace, plus the manifest's other new namespaces).
#pragma once

#include <string>

#include "manifests/manifest.h"
#include "util/result.h"

namespace nestbox::learn {

struct SandboxPipes {
  int to_parent = -1;    // child -> parent: 'U' (user namespace made), then the listener's fd number
  int from_parent = -1;  // parent -> child: 'M' (maps written)
};

// Mounts the rootfs read-only (with /proc, /sys, a minimal /dev and the
// manifest's tmpfs; storage and bind mounts become empty tmpfs stand-ins owned
// by the process user), pivots into it, sets hostname and loopback, makes the
// user namespace (the parent writes its maps), switches to process.uid/gid,
// keeps only the manifest's capabilities and sets no_new_privs. On success the
// caller installs the filter and execs.
Status enter_sandbox(const manifests::Manifest& manifest, const std::string& root, const SandboxPipes& pipes);

// Which namespaces are new (CLONE_NEW* flags): mount and pid always, the
// others as the manifest says; joining another container's is not possible
// here, so a joined namespace is a new one while learning.
int clone_flags(const manifests::Manifest& manifest);

}  // namespace nestbox::learn
