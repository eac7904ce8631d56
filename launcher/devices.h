// The container's device allow-list: the minimal /dev (null zero full random
// urandom tty ptmx, the pts of its own devpts) and the devices its manifest
// declares; every other device node, wherever it comes from (an image, a
// bind, mknod with CAP_MKNOD), cannot be opened or created.
//   cgroup v1: the `devices` controller (deny all, then allow each)
//   cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program (as crun and procd's
//              ujail do), raw bpf(), no libbpf
// Applied by the launcher once the container's first process has mounted
// its root (mounting loop devices needs them), before anything in the
// container runs. Neither applicable: the start is refused (fail closed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "launcher/cgroups.h"
#include "policy/policy.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

// Access bits as the cgroup v2 program sees them (BPF_DEVCG_ACC_*).
enum DeviceAccessBits : uint8_t { kDevMknod = 1, kDevRead = 2, kDevWrite = 4, kDevAll = 7 };

struct DeviceRule {
  char type = 'c';           // 'c' or 'b'
  int64_t major = -1, minor = -1;  // -1: any
  uint8_t access = kDevAll;  // DeviceAccessBits
};

// The minimal /dev (when the policy has it) plus the policy's declared devices.
std::vector<DeviceRule> device_rules(const policy::Policy& policy);
// v1 devices.allow lines ("c 1:3 rwm").
std::vector<std::string> v1_allow_lines(const std::vector<DeviceRule>& rules);

// The cgroup v2 device program: 8-byte struct bpf_insn each, allowing
// exactly `rules` (read, write, mknod) and denying everything else.
std::vector<uint64_t> device_program(const std::vector<DeviceRule>& rules);
// BPF_PROG_LOAD of device_program(rules); the fd of the loaded program.
Result<int> load_device_program(const std::vector<DeviceRule>& rules);

// A v2 device program attached to one cgroup directory, kept to be replaced.
struct AttachedProgram {
  std::string dir;
  UniqueFd prog;
};

// Installs the allow-list on every hierarchy of `cgroup` that can hold one;
// fails unless at least one did, and on any error of one that should have.
// `keep`: receives the v2 programs attached (for DeviceAccess).
Status restrict_devices(const Cgroup& cgroup, const std::vector<DeviceRule>& rules,
                        std::vector<AttachedProgram>* keep = nullptr);

// The allow-list of a running container, changed while it runs (hot-plugged
// devices, launcher/hotplug.h): v1 devices.allow / devices.deny per device,
// and on cgroup v2 the attached program replaced atomically
// (BPF_F_REPLACE, Linux 5.6) by one built from the new list.
class DeviceAccess {
 public:
  DeviceAccess(const Cgroup& cgroup, std::vector<DeviceRule> base, std::vector<AttachedProgram> programs);
  // Replaces every v2 program with an identical one: a kernel that cannot
  // replace refuses here, before the container runs, never later.
  Status probe();
  Status allow(const DeviceRule& rule);
  // Fails when any hierarchy may still allow `rule`: the caller must stop the container.
  Status revoke(const DeviceRule& rule);

 private:
  Status replace_programs();
  const Cgroup& cgroup_;
  std::vector<DeviceRule> base_, extra_;
  std::vector<AttachedProgram> programs_;
};

}  // namespace nestbox::launcher
