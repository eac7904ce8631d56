// nestbox launcher: runs one container from a decoded policy::Policy and a
// root filesystem source, applying the isolation stack in this order
// (docs/launcher.md):
//   refusals → cgroup → loop attach → clone(namespaces) → mounts → pivot_root
//   → user namespace + id maps → rlimits, LSM label → capabilities → seccomp → exec
// Call order for a front end: fill RootfsSource + Options, call run_container()
// (blocks until the container's main process exits), report RunResult.
// Target-safe: libc only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "policy/policy.h"
#include "util/dm_device.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

// A byte window of a file holding a filesystem image (size 0: to end of file).
struct ImageWindow {
  std::string path;
  uint64_t offset = 0, size = 0;
  // The file as it was verified (verifier::open_image): the loop device gets
  // this fd, the path is never opened again. Null: open `path` (O_NOFOLLOW,
  // a regular file only) — for images nobody verified (tests, benchmarks).
  std::shared_ptr<UniqueFd> fd;
  // Set when the verifier did not hash the payload (verity mode): the window
  // is then mounted only through a read-only dm-verity device built from
  // these signed parameters (never from the on-disk superblock), over a loop
  // device of [offset, verity_end): the payload and its hash tree.
  std::optional<dm::VerityParams> verity;
  uint64_t verity_end = 0;
  // SHA-256 (64 lowercase hex) of the window's bytes as the signed metadata
  // states it, when the verifier hashed them (else empty): with `verity`, what
  // names the content of a shared base mount (launcher/shared_base.h).
  std::string digest;
};

struct RootfsSource {
  enum class Kind { kSquashfs, kOverlay, kTree };
  Kind kind = Kind::kSquashfs;
  ImageWindow image;  // kSquashfs: the image; kOverlay: the container's layer
  ImageWindow base;   // kOverlay: the shared base image (below the layer)
  std::string tree;   // kTree: a host directory, bound read-only
  // kTree: the tree's root directory as it was verified (launcher/tree_source.h);
  // when set, this descriptor is bound (/proc/self/fd/N), `tree` only names it.
  std::shared_ptr<UniqueFd> tree_fd;
};

struct Options {
  std::string state_root = "/run/nestbox";  // <state_root>/<name>/ while running
  // Where the container's cgroup goes, per hierarchy: "" = beneath the
  // launcher's own cgroup, "a/b" = beneath a/b below it, "/a/b" = from the root.
  // A missing parent is created (and left for the next launch).
  std::string cgroup_parent;
  int stop_timeout_ms = 10000;  // SIGTERM → this long → SIGKILL of the whole cgroup
  // From the clone to the container's exec (every holder of the setup
  // channel exec'd): longer and the launch fails, its processes killed. Long
  // enough for mkfs of a storage partition; bounds a setup the container's
  // processes stopped (a joined pid namespace's).
  int setup_timeout_ms = 120000;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;  // -1: inherit
  std::string partition_dir = "/dev/disk/by-partlabel";  // storage partitions by name
  bool force_legacy_loop = false;  // LOOP_SET_FD + LOOP_SET_STATUS64 (tests, old kernels)
  bool force_no_mount_setattr = false;  // binds as on kernels before mount_setattr (tests)
  // Refusal hook, run before anything is created or mounted (verifier result,
  // kernel features). An error here aborts the launch.
  std::function<Status(const policy::Policy&)> preflight;
  // Network hook for NetMode::kInterfaces, run by the launcher with the
  // container's first pid once its network namespace exists.
  std::function<Status(const policy::Policy&, int pid)> network_setup;
  // Called once after a successful network_setup, when the container's
  // processes are gone (exit, stop, or a failure later in the launch) and
  // before the cgroup and the state directory are released — so `stop`
  // returns only after the network is torn down. Additive (launch-net-overlay).
  std::function<void()> network_teardown;
  // For a policy that joins another container's network namespace and keeps
  // CAP_NET_ADMIN or CAP_NET_RAW, with that namespace's fd, before anything
  // is created: refuses the join where a filter inside that namespace holds
  // only while nothing there has either capability (docs/network.md,
  // "Firewall"). Without it such a join is refused.
  std::function<Status(const policy::Policy&, int netns_fd)> network_join_check;
};

struct RunResult {
  int exit_code = 0;   // the main process's exit status, or 128 + signal
  int signal = 0;      // the signal that ended it, 0 if it exited
  bool oom_killed = false;  // the memory cgroup killed a process
  bool stopped = false;     // ended by SIGTERM/SIGINT to the launcher (`stop`)
  // The stop timeout passed before the container's processes ended on
  // SIGTERM: the launcher killed its cgroup.
  bool killed_after_timeout = false;
  // nestbox's init: "SERVICE: REASON" of the service that failed for good.
  std::string failure;
  // dm-verity refused a block of the image or its base (the read failed
  // with EIO inside the container): the image is damaged or was tampered with.
  bool verity_corrupted = false;
};

// Runs the container in the foreground and returns when it has ended and
// everything it used (mounts, loop devices, cgroups, state dir) is gone.
Result<RunResult> run_container(const policy::Policy& policy, const RootfsSource& rootfs,
                                const Options& options);

}  // namespace nestbox::launcher
