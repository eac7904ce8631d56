// The privilege steps, each one system-call concept, applied by
// become_and_exec() (process.h) in crun's order:
//   rlimits → LSM label → bounding drop → keep caps across the id change →
//   setgroups/setresgid/setresuid → capset → ambient → no_new_privs → seccomp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::launcher {

Status apply_rlimits(const std::vector<policy::Rlimit>& limits);                   // rlimits.cc
// lsm.cc: the host's view, before anything is created; then the label itself.
Status check_lsm_available(const std::string& apparmor, const std::string& selinux);
bool apparmor_active(const std::string& root);  // root: "" = this host (tests: a fake tree)
bool selinux_active(const std::string& root);
Status apply_lsm_label(const std::string& apparmor, const std::string& selinux);

// caps.cc
Status drop_bounding(uint64_t keep);
Status change_ids(uint32_t uid, uint32_t gid, const std::vector<uint32_t>& groups);
Result<uint64_t> permitted_caps();  // this process's permitted set
Status raise_effective();          // effective = permitted (for seccomp without nnp)
Status set_caps(uint64_t keep);    // permitted/effective/inheritable, then ambient
Status set_no_new_privs();

// seccomp_install.cc: validates and loads classic BPF.
Status install_seccomp(const std::vector<uint8_t>& bpf);

}  // namespace nestbox::launcher
