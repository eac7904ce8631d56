// The container's cgroup: one directory per hierarchy it needs (cgroup v2,
// and the v1 hierarchies of hybrid hosts), created beneath the launcher's own
// cgroup (or a configured parent) and removed by the destructor after every
// process in it has been killed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "util/detached_mount.h"
#include "util/result.h"

namespace nestbox::launcher {

// Owner (uid and gid) of every directory and file of a container's cgroups
// (cgroups.cc: seal), an id no container may run as or map (check_policy).
// It also owns the user namespaces the launcher makes (child.cc), so that
// the kernel's per-user counts of what containers make in them fall on it,
// not on the host's root.
inline constexpr uint32_t kCgroupOwner = 0xfffffffeu;

// pids.max of a container whose policy sets no pids_max, where the kernel has
// a pids controller: without it a fork bomb of a zero-capability container
// took every pid of the host (pid_max is 32768 on a router), and nothing on
// it could fork again. A policy asking for more says so (cgroups.pids_max).
inline constexpr uint32_t kDefaultPidsMax = 1024;

struct CgroupDir {
  std::string path;        // /sys/fs/cgroup/<hierarchy>/<parent>/nestbox-<name>
  bool v2 = false;
  std::string controllers; // v1: "memory", "cpu,cpuacct", ...; v2: ""
  // In the unified hierarchy where it is not mounted here (pure v1 host, or
  // hybrid without /sys/fs/cgroup/unified): `path` is from the hierarchy's
  // root, reached through a private mount of this process (Cgroup::at). Only
  // confines: tracking, freezing and limits stay with the v1 hierarchies.
  bool unmounted_v2 = false;
};

class Cgroup {
 public:
  // Creates the directories and writes the limits. Fails closed when a limit
  // cannot be applied (controller absent: names it). An unset pids_max is
  // kDefaultPidsMax where a pids controller exists (none to refuse it for:
  // the policy did not ask).
  static Result<Cgroup> create(const std::string& name, const std::string& parent,
                               const policy::Cgroups& limits);
  // Re-opens the cgroup of a running container from its recorded dirs (no
  // ownership). An unmounted_v2 dir is mounted privately again; when that
  // fails, add() refuses.
  static Cgroup attach(std::vector<CgroupDir> dirs);
  // Takes over the recorded dirs of a dead launcher: the destructor kills
  // whatever is left in them and removes them.
  static Cgroup adopt(std::vector<CgroupDir> dirs);

  Cgroup(Cgroup&& other) noexcept;
  Cgroup& operator=(Cgroup&&) = delete;
  ~Cgroup();

  // A cgroup below this one in its unified hierarchy only, sealed like it,
  // owned: the destructor kills what is in it and removes it. For what must
  // end with its command (a health check and everything it started, also in
  // a session of its own, which a process-group kill misses). The v1
  // hierarchies keep such processes in the container's own directories, so
  // every limit still applies; v2 charges a child cgroup to its parent.
  Result<Cgroup> sub(const std::string& leaf) const;
  Status add(pid_t pid) const;
  Status freeze(bool frozen) const;
  Result<bool> frozen() const;
  // SIGKILLs every process (cgroup.kill on v2; frozen first so none can
  // fork away): each listed pid through a pidfd, and only while it is still
  // listed after it was pinned (cgroups.cc: kill_listed), never a reused pid.
  void kill_all() const;
  bool oom_killed() const;  // the memory controller killed something
  bool empty() const;
  const std::vector<CgroupDir>& dirs() const { return dirs_; }
  // Where this process reaches `d` (through the private mount for an
  // unmounted_v2 one; "" when that could not be mounted).
  std::string at(const CgroupDir& d) const;
  // Serialized dirs for the state directory ("v1 memory /sys/...").
  std::string describe() const;
  static std::vector<CgroupDir> parse(const std::string& described);

 private:
  explicit Cgroup(std::vector<CgroupDir> dirs, bool owned) : dirs_(std::move(dirs)), owned_(owned) {}
  void mount_private_v2();
  void remove();
  std::vector<CgroupDir> dirs_;
  bool owned_ = false;
  // cgroup2 mounted for this process alone, for unmounted_v2 dirs: never in
  // the host's mount namespace, gone with the descriptor.
  std::optional<DetachedMount> private_v2_;
  std::string private_v2_error_;
};

}  // namespace nestbox::launcher
