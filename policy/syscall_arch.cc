#include "policy/syscall_arch.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>

namespace nestbox::policy {
namespace {

struct CtxRelease {
  void operator()(void* c) const { seccomp_release(c); }
};
using Ctx = std::unique_ptr<void, CtxRelease>;

// Size of the program libseccomp exports for `arch` with one allow rule for
// `name` (or none when `name` is null); -1 when libseccomp refuses.
long program_size(uint32_t arch, const char* name) {
  Ctx ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) return -1;
  if (arch != seccomp_arch_native() &&
      (seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE) < 0 || seccomp_arch_add(ctx.get(), arch) < 0))
    return -1;
  if (name && seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(name), 0) < 0)
    return -1;
  int fd = memfd_create("nestbox-syscall-probe", MFD_CLOEXEC);
  if (fd < 0) return -1;
  long size = seccomp_export_bpf(ctx.get(), fd) < 0 ? -1 : static_cast<long>(lseek(fd, 0, SEEK_END));
  close(fd);
  return size;
}

}  // namespace

uint32_t libseccomp_arch(manifests::Arch arch) {
  using manifests::Arch;
  switch (arch) {
    case Arch::kX86_64: return SCMP_ARCH_X86_64;
    case Arch::kI386: return SCMP_ARCH_X86;
    case Arch::kAarch64: return SCMP_ARCH_AARCH64;
    case Arch::kArm: return SCMP_ARCH_ARM;
    case Arch::kMips: return SCMP_ARCH_MIPS;
    case Arch::kMipsel: return SCMP_ARCH_MIPSEL;
    case Arch::kPowerpc: return SCMP_ARCH_PPC;
    case Arch::kRiscv64: return SCMP_ARCH_RISCV64;
  }
  return SCMP_ARCH_X86_64;
}

SyscallOnArch resolve_syscall(const std::string& name, manifests::Arch arch) {
  uint32_t scmp = libseccomp_arch(arch);
  int nr = seccomp_syscall_resolve_name_arch(scmp, name.c_str());
  if (nr == __NR_SCMP_ERROR) return SyscallOnArch::kUnknown;
  if (nr >= 0) return SyscallOnArch::kExists;
  // A pseudo number: either a call multiplexed on this arch (socket through
  // socketcall on i386, mips, powerpc), which libseccomp filters by its
  // argument, or one the arch lacks ("open" on aarch64), whose rule would
  // vanish. Tell them apart by what the rule does to the program.
  long with = program_size(scmp, name.c_str()), without = program_size(scmp, nullptr);
  return with > 0 && without > 0 && with > without ? SyscallOnArch::kExists : SyscallOnArch::kOtherArch;
}

}  // namespace nestbox::policy
