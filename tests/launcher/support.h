// Shared fixtures of the launcher tests: a busybox + probe rootfs as a tree,
// a squashfs image and the same image inside a larger file (offset window);
// policies with every isolation on; a runner capturing the container's output;
// and host-side leak checks (mounts, loop devices, cgroups, state dirs).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "launcher/launcher.h"
#include "policy/policy.h"

namespace nestbox::launcher::testing {

struct Images {
  std::string dir;       // this process's scratch directory (removed at exit)
  std::string cache;     // the read-only images, shared between test processes
  std::string tree;      // rootfs directory
  std::string squashfs;  // the rootfs as squashfs
  std::string windowed;  // 4096 bytes, the squashfs, 4096 bytes
  uint64_t window_offset = 4096, window_size = 0;
  std::string base, layer;  // overlay: busybox base, probe-only layer
  std::string state_root;
};

// Built once (cached in /var/cache/nestbox-test/launcher); root and mksquashfs
// required, otherwise tests skip.
const Images* images();
// GTEST_SKIP()s the calling test if images() is null.
#define NESTBOX_NEED_IMAGES()                                          \
  do {                                                                 \
    if (!::nestbox::launcher::testing::images())                       \
      GTEST_SKIP() << "needs root, mksquashfs and " NESTBOX_PROBE;     \
  } while (0)

// Every isolation on: all namespaces new, userns 0→100000, no capabilities,
// read-only root, /proc, /sys, /dev, a tmpfs /tmp, pids limit.
policy::Policy full_policy(const std::string& name, std::vector<std::string> argv);
RootfsSource squashfs_source();
Options test_options();

// A launcher in a forked process (its own session when `own_session`: as
// `boot` starts them) while the test acts on it from outside; killed and
// reaped by the destructor.
class Background {
 public:
  explicit Background(const policy::Policy& p, Options o = test_options(), bool own_session = false);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // Waits (10 s at most) until the container's main process has printed
  // `line` and the launcher has recorded the state (the namespace links come last).
  bool wait_for(const std::string& line);
  int finish();  // waits for the launcher: its exit status
  std::string main_pid() const;
  std::string output() const;

 private:
  std::string name_, out_;
  pid_t pid_ = -1;
};

struct Outcome {
  bool ok = false;
  std::string error;
  RunResult result;
  std::string out;  // the container's stdout + stderr
};
Outcome run(const policy::Policy& p, const RootfsSource& src, Options o = test_options());

// Host-side leftovers of container `name` (empty: nothing left).
std::vector<std::string> leftovers(const std::string& name);

// Classic BPF from libseccomp (test-side only): default allow, getpriority →
// EACCES, getpgid → kill process.
std::vector<uint8_t> test_seccomp_bpf();

std::string sh(const std::string& command);  // runs a host command, returns stdout

}  // namespace nestbox::launcher::testing
