// What a container process becomes before exec: ids, capabilities, limits,
// labels, seccomp, environment. Taken from the policy for `run`, and saved in
// the state directory so `exec` gives a joining process exactly the same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::launcher {

struct ExecProfile {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> groups;
  uint64_t caps = 0;  // keep-list for bounding/permitted/effective/inheritable/ambient
  bool no_new_privs = true;
  std::vector<policy::Rlimit> rlimits;
  std::string apparmor, selinux;
  std::vector<uint8_t> seccomp;  // classic BPF, 8 bytes per instruction
  std::vector<std::string> env;
  std::string cwd = "/";
};

ExecProfile profile_from(const policy::Policy& policy);

// Line-based text form for <state>/exec (root-only directory, written by us).
std::string serialize(const ExecProfile& profile);
Result<ExecProfile> deserialize(const std::string& text);

}  // namespace nestbox::launcher
