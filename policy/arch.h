// Target architectures a policy can be baked for: the name used in manifests
// and policies, the AUDIT_ARCH_* value a seccomp filter must check, and the
// byte order of the BPF program. Target-safe (libc only).
//
// kArches is the one list of architecture names: manifests::Arch is its
// index (manifests/enums.cc builds the names from it), so a new architecture
// is added here and in that enum's tail, nowhere else.
#pragma once

#include <linux/audit.h>

#include <cstdint>
#include <string_view>

namespace nestbox::policy {

struct ArchInfo {
  const char* name;      // "x86_64", "mipsel", ... (manifests::to_string(Arch))
  uint32_t audit_arch;   // AUDIT_ARCH_* (seccomp_data.arch)
  bool big_endian;       // byte order of seccomp_data and of the BPF program
};

// In the order of manifests::Arch.
inline constexpr ArchInfo kArches[] = {
    {"x86_64", AUDIT_ARCH_X86_64, false}, {"aarch64", AUDIT_ARCH_AARCH64, false},
    {"arm", AUDIT_ARCH_ARM, false},       {"mips", AUDIT_ARCH_MIPS, true},
    {"mipsel", AUDIT_ARCH_MIPSEL, false}, {"powerpc", AUDIT_ARCH_PPC, true},
    {"riscv64", AUDIT_ARCH_RISCV64, false}, {"i386", AUDIT_ARCH_I386, false},
};

// The ELF e_machine of an architecture's binaries: AUDIT_ARCH_* is EM_* with
// flag bits above (linux/audit.h), so the table states it once.
constexpr uint16_t elf_machine(const ArchInfo& a) { return static_cast<uint16_t>(a.audit_arch & 0xFFFF); }

// nullptr when `name` is not a supported architecture.
const ArchInfo* find_arch(std::string_view name);

// The AUDIT_ARCH_* of the architecture this code is compiled for (0 when it is
// none of kArches): what the compiler's target tells, nothing else. Its name
// and byte order come from kArches.
inline constexpr uint32_t kBuildAuditArch =
#if defined(__x86_64__)
    AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    AUDIT_ARCH_AARCH64;
#elif defined(__arm__)
    AUDIT_ARCH_ARM;
#elif defined(__mips__) && defined(__MIPSEL__) && !defined(__mips64)
    AUDIT_ARCH_MIPSEL;
#elif defined(__mips__) && !defined(__mips64)
    AUDIT_ARCH_MIPS;
#elif defined(__powerpc__) && !defined(__powerpc64__)
    AUDIT_ARCH_PPC;
#elif defined(__riscv) && __riscv_xlen == 64
    AUDIT_ARCH_RISCV64;
#elif defined(__i386__)
    AUDIT_ARCH_I386;
#else
    0;
#endif

// The entry of kArches this binary runs as ("unknown" when none: such a
// device matches no image's architecture).
constexpr const char* build_arch_name() {
  for (const ArchInfo& a : kArches)
    if (a.audit_arch == kBuildAuditArch) return a.name;
  return "unknown";
}

}  // namespace nestbox::policy
