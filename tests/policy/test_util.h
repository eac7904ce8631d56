// Small helpers for the policy tests: temp dirs, running commands, fixtures.
#pragma once

#include <string>
#include <vector>

#include "tests/test_dir.h"

namespace nestbox::policy::testing {

// A fresh directory under /tmp, removed with everything in it on destruction.
using TempDir = nestbox::testing::TestDir;  // tests/test_dir.h

// Runs `command` with /bin/sh; stdout+stderr into *output. Returns the exit
// status (or 128+signal).
int run_shell(const std::string& command, std::string* output);

void write_text(const std::string& path, const std::string& text, unsigned mode = 0644);
std::string read_text(const std::string& path);

// A minimal rootfs: /bin/busybox (static) plus empty mount points.
// Returns false if busybox-static is not installed.
bool make_busybox_rootfs(const std::string& dir);

bool have_program(const std::string& name);

// A unix socket bound at `path` (then closed: a socket inode for a bind to
// take, as ubusd's would be). False when it cannot be made.
bool make_unix_socket(const std::string& path);

// Removes, on destruction, cgroup directories named `leaves` beneath this
// process's own cgroup in every v1 hierarchy (and the v2 one), if they did not
// exist when constructed. For runtimes that leave helper cgroups behind.
class CgroupSweep {
 public:
  explicit CgroupSweep(const std::vector<std::string>& leaves);
  ~CgroupSweep();
  CgroupSweep(const CgroupSweep&) = delete;
  CgroupSweep& operator=(const CgroupSweep&) = delete;

 private:
  std::vector<std::string> created_;
};

// The cgroup path an OCI runtime is told to use (linux.cgroupsPath): beneath
// this process's own memory cgroup, the same path in every v1 hierarchy. On
// destruction removes every directory of that path the runtime created.
class CgroupScope {
 public:
  explicit CgroupScope(const std::string& leaf);
  ~CgroupScope();
  CgroupScope(const CgroupScope&) = delete;
  CgroupScope& operator=(const CgroupScope&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> created_;
};

// A loop device over a small file that starts with `marker`, detached on
// destruction. minor_number() < 0: no loop device could be set up.
class LoopDevice {
 public:
  LoopDevice(const std::string& dir, const std::string& marker);
  ~LoopDevice();
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;
  int minor_number() const { return minor_; }

 private:
  std::string device_;
  int minor_ = -1;
};

// What a hostile image brings and tries from inside (policy/proc_masks.h,
// the device allow-list): the rootfs gets /loopnode, a block node (0666) of
// `loop`, and /hostile.sh, which prints
//   loopnode=<what it read of the node>      (empty: refused)
//   kpageflags=<hex of /proc/kpageflags>     (empty: masked)
//   kpagecount=<hex of /proc/kpagecount>
//   irq_rc=<status of writing /proc/irq/default_smp_affinity its own value>
//   mknod_rc=<status of mknod of the same block device in /tmp>
//   ubus=<socket|missing> and the mountinfo line of /ubus.sock
bool add_hostile_image(const std::string& rootfs, const LoopDevice& loop);

}  // namespace nestbox::policy::testing
