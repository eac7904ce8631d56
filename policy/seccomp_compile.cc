#include "policy/seccomp_compile.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>

#include "policy/syscall_arch.h"
#include "util/fd.h"

namespace nestbox::policy {
namespace {

using manifests::Arch;
using manifests::SeccompAction;

struct ArchNames {
  Arch arch;
  uint32_t scmp;
  const char* oci;
};
constexpr ArchNames kArches[] = {
    {Arch::kX86_64, SCMP_ARCH_X86_64, "SCMP_ARCH_X86_64"},
    {Arch::kI386, SCMP_ARCH_X86, "SCMP_ARCH_X86"},
    {Arch::kAarch64, SCMP_ARCH_AARCH64, "SCMP_ARCH_AARCH64"},
    {Arch::kArm, SCMP_ARCH_ARM, "SCMP_ARCH_ARM"},
    {Arch::kMips, SCMP_ARCH_MIPS, "SCMP_ARCH_MIPS"},
    {Arch::kMipsel, SCMP_ARCH_MIPSEL, "SCMP_ARCH_MIPSEL"},
    {Arch::kPowerpc, SCMP_ARCH_PPC, "SCMP_ARCH_PPC"},
    {Arch::kRiscv64, SCMP_ARCH_RISCV64, "SCMP_ARCH_RISCV64"},
};

const ArchNames& names(Arch a) {
  for (const ArchNames& n : kArches)
    if (n.arch == a) return n;
  return kArches[0];
}

uint32_t scmp_action(SeccompAction a, int err) {
  switch (a) {
    case SeccompAction::kAllow: return SCMP_ACT_ALLOW;
    case SeccompAction::kErrno: return SCMP_ACT_ERRNO(static_cast<uint32_t>(err));
    case SeccompAction::kKill: return SCMP_ACT_KILL_PROCESS;
    case SeccompAction::kLog: return SCMP_ACT_LOG;
    case SeccompAction::kTrap: return SCMP_ACT_TRAP;
  }
  return SCMP_ACT_KILL_PROCESS;
}

struct CtxRelease {
  void operator()(void* c) const { seccomp_release(c); }
};
using Ctx = std::unique_ptr<void, CtxRelease>;

Error scmp_error(const std::string& what, int rc) { return sys_error("libseccomp: " + what, -rc); }

}  // namespace

const char* oci_seccomp_arch(Arch arch) { return names(arch).oci; }

Result<SeccompPlan> plan_seccomp(const manifests::Seccomp& s, Arch arch) {
  // A name must exist on the target: one that exists only elsewhere
  // ("open" on aarch64) would silently vanish from the filter, so it is
  // refused like a name nobody knows (validate refuses both with the place).
  auto filter = [&](const std::vector<std::string>& in) -> Result<std::vector<std::string>> {
    std::set<std::string> out;
    for (const std::string& name : in) {
      switch (resolve_syscall(name, arch)) {
        case SyscallOnArch::kUnknown:
          return bad_input("seccomp: unknown system call \"" + name + "\"");
        case SyscallOnArch::kOtherArch:
          return bad_input("seccomp: system call \"" + name + "\" does not exist on " +
                           manifests::to_string(arch));
        case SyscallOnArch::kExists: out.insert(name); break;
      }
    }
    return std::vector<std::string>(out.begin(), out.end());
  };
  SeccompPlan plan;
  // libseccomp silently drops a conditional rule for a call that has an
  // unconditional one: such a pair is refused, never compiled.
  std::set<std::string> used, conditional;
  auto add = [&](std::vector<std::string> calls, SeccompAction a, int err,
                 const std::vector<manifests::SeccompArg>& args) -> Status {
    for (const std::string& c : calls)
      if (args.empty() ? !used.insert(c).second || conditional.count(c) : (conditional.insert(c), used.count(c)))
        return bad_input("seccomp: system call \"" + c + "\" has more than one rule");
    // A rule whose action is the default is a no-op (and libseccomp refuses it).
    bool same = a == s.default_action && (a != SeccompAction::kErrno || err == s.default_errno);
    if (!calls.empty() && !same) plan.rules.push_back({std::move(calls), a, err, args});
    return ok_status();
  };
  auto allow = filter(s.allow);
  if (!allow.ok()) return std::move(allow).error();
  NESTBOX_TRY(add(std::move(*allow), SeccompAction::kAllow, 0, {}));
  for (const manifests::SeccompRule& r : s.deny) {
    auto calls = filter(r.syscalls);
    if (!calls.ok()) return std::move(calls).error();
    NESTBOX_TRY(add(std::move(*calls), r.action, r.errno_value, r.args));
  }
  return plan;
}

Result<std::vector<uint8_t>> compile_seccomp(const manifests::Seccomp& s, Arch arch) {
  if (!s.enabled) return std::vector<uint8_t>{};
  auto plan = plan_seccomp(s, arch);
  if (!plan.ok()) return std::move(plan).error();
  Ctx ctx(seccomp_init(scmp_action(s.default_action, s.default_errno)));
  if (!ctx) return failure("libseccomp: seccomp_init failed");
  uint32_t scmp = libseccomp_arch(arch);
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc < 0) return scmp_error("set bad-arch action", rc);
  if (scmp != seccomp_arch_native()) {
    // Remove the build machine's arch first: libseccomp refuses to mix byte orders.
    if ((rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE)) < 0) return scmp_error("remove native arch", rc);
    if ((rc = seccomp_arch_add(ctx.get(), scmp)) < 0)
      return scmp_error(std::string("add arch ") + manifests::to_string(arch), rc);
  }
  for (const SeccompPlan::Rule& r : plan->rules) {
    for (const std::string& name : r.syscalls) {
      // seccomp_rule_add wants the build machine's number (or pseudo number)
      // and translates it by name for every arch in the filter.
      int nr = seccomp_syscall_resolve_name(name.c_str());
      std::vector<scmp_arg_cmp> cmp;
      for (const manifests::SeccompArg& a : r.args)
        cmp.push_back(scmp_arg_cmp{a.index, SCMP_CMP_MASKED_EQ, a.mask, a.value});  // datum_a is the mask
      rc = seccomp_rule_add_array(ctx.get(), scmp_action(r.action, r.errno_value), nr,
                                  static_cast<unsigned>(cmp.size()), cmp.data());
      if (rc < 0) return scmp_error("add rule for " + name, rc);
    }
  }
  UniqueFd fd(memfd_create("nestbox-seccomp", MFD_CLOEXEC));
  if (!fd) return sys_error("memfd_create");
  if ((rc = seccomp_export_bpf(ctx.get(), fd.get())) < 0) return scmp_error("export BPF", rc);
  off_t size = lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return sys_error("lseek seccomp memfd");
  std::vector<uint8_t> bpf(static_cast<size_t>(size));
  if (pread(fd.get(), bpf.data(), bpf.size(), 0) != size) return sys_error("read seccomp memfd");
  return bpf;
}

}  // namespace nestbox::policy
