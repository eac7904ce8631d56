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

}  // namespace nestbox::policy::testing
