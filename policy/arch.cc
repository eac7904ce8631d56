#include "policy/arch.h"

#include <linux/audit.h>

namespace nestbox::policy {
namespace {

constexpr ArchInfo kArches[] = {
    {"x86_64", AUDIT_ARCH_X86_64, false},   {"i386", AUDIT_ARCH_I386, false},
    {"aarch64", AUDIT_ARCH_AARCH64, false}, {"arm", AUDIT_ARCH_ARM, false},
    {"mips", AUDIT_ARCH_MIPS, true},        {"mipsel", AUDIT_ARCH_MIPSEL, false},
    {"powerpc", AUDIT_ARCH_PPC, true},      {"riscv64", AUDIT_ARCH_RISCV64, false},
};

}  // namespace

const ArchInfo* find_arch(std::string_view name) {
  for (const ArchInfo& a : kArches)
    if (name == a.name) return &a;
  return nullptr;
}

}  // namespace nestbox::policy
