// Build-time seccomp: a manifest's rules compiled with libseccomp into a
// classic BPF program for the container's target architecture, in that
// architecture's byte order. The device only loads the bytes. Host only.
#pragma once

#include <cstdint>
#include <vector>

#include "manifests/model.h"
#include "policy/syscall_arch.h"
#include "util/result.h"

namespace nestbox::policy {

// OCI / libseccomp name: "SCMP_ARCH_X86_64".
const char* oci_seccomp_arch(manifests::Arch arch);

// Empty when `rules.enabled` is false. Syscall names unknown to libseccomp, and
// names that exist but not on `arch`, are bad input (a rule must never vanish
// silently from the filter). Rules are added in sorted order so the output is reproducible.
Result<std::vector<uint8_t>> compile_seccomp(const manifests::Seccomp& rules, manifests::Arch arch);

// The syscalls the compiled program names, per action (what OCI/LXC forms list too).
struct SeccompPlan {
  struct Rule {
    std::vector<std::string> syscalls;  // sorted
    manifests::SeccompAction action;
    int errno_value;
    std::vector<manifests::SeccompArg> args;  // all must hold; empty: every call
  };
  // Allow rule first (if any), then deny rules in manifest order. A call has
  // one rule without conditions or any number with them, never both.
  std::vector<Rule> rules;
};
Result<SeccompPlan> plan_seccomp(const manifests::Seccomp& rules, manifests::Arch arch);

}  // namespace nestbox::policy
