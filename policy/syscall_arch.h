// Per-architecture syscall name resolution, shared by `nestbox validate`
// (manifests/validate.cc, which must refuse what compose refuses, with the
// place) and the seccomp compiler (seccomp_compile.cc), so both decide from
// one table: libseccomp's. Host only.
#pragma once

#include <cstdint>
#include <string>

#include "manifests/model.h"

namespace nestbox::policy {

enum class SyscallOnArch {
  kExists,   // a syscall of `arch`
  kOtherArch,  // a syscall libseccomp knows, but not on `arch` (e.g. "open" on aarch64)
  kUnknown,  // no architecture has it
};

// SCMP_ARCH_* for a manifest architecture.
uint32_t libseccomp_arch(manifests::Arch arch);

SyscallOnArch resolve_syscall(const std::string& name, manifests::Arch arch);

}  // namespace nestbox::policy
