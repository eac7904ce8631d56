// Target architectures a policy can be baked for: the name used in manifests
// and policies, the AUDIT_ARCH_* value a seccomp filter must check, and the
// byte order of the BPF program. Target-safe (libc only).
#pragma once

#include <cstdint>
#include <string_view>

namespace nestbox::policy {

struct ArchInfo {
  const char* name;      // "x86_64", "mipsel", ... (manifests::to_string(Arch))
  uint32_t audit_arch;   // AUDIT_ARCH_* (seccomp_data.arch)
  bool big_endian;       // byte order of seccomp_data and of the BPF program
};

// nullptr when `name` is not a supported architecture.
const ArchInfo* find_arch(std::string_view name);

}  // namespace nestbox::policy
