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
#include "util/result.h"

namespace nestbox::launcher {

struct DeviceRule {
  char type = 'c';           // 'c' or 'b'
  int64_t major = -1, minor = -1;  // -1: any
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

// Installs the allow-list on every hierarchy of `cgroup` that can hold one;
// fails unless at least one did, and on any error of one that should have.
Status restrict_devices(const Cgroup& cgroup, const std::vector<DeviceRule>& rules);

}  // namespace nestbox::launcher
