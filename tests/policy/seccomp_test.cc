#include "policy/seccomp_compile.h"

#include <gtest/gtest.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <algorithm>
#include <set>

#include "policy/arch.h"
#include "policy/bake.h"
#include "policy/bpf_check.h"
#include "policy/format.h"
#include "tests/policy/sample.h"

namespace nestbox::policy {
namespace {

namespace m = manifests;

m::Seccomp rules() {
  m::Seccomp s;
  s.enabled = true;
  s.default_action = m::SeccompAction::kErrno;
  s.default_errno = ENOSYS;
  s.allow = {"exit_group", "exit", "getpid", "getuid", "rt_sigreturn"};
  s.deny = {{{"mkdirat", "mkdir"}, m::SeccompAction::kErrno, EACCES},
            {{"getppid"}, m::SeccompAction::kKill, 0}};
  return s;
}

// Runs `body` in a forked child under `bpf`; returns the wait status.
int run_filtered(const std::vector<uint8_t>& bpf, int (*body)()) {
  pid_t pid = fork();
  if (pid == 0) {
    sock_fprog prog{static_cast<unsigned short>(bpf.size() / 8),
                    reinterpret_cast<sock_filter*>(const_cast<uint8_t*>(bpf.data()))};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(100);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(101);
    // exit_group directly: a sanitizer's _exit interceptor would make calls
    // the filter under test denies.
    syscall(SYS_exit_group, body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// Exit code: 0 when every syscall behaved as the rules say, else a step number.
int allowed_and_denied() {
  if (syscall(SYS_getpid) <= 0) return 1;                                     // allowed
  if (syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent-nb", 0700) != -1 || errno != EACCES) return 2;  // errno rule
  if (syscall(SYS_getgid) != -1 || errno != ENOSYS) return 3;                 // default action
  return 0;
}

int calls_killed_syscall() {
  syscall(SYS_getppid);
  return 0;  // not reached
}

TEST(Seccomp, X86_64ProgramEnforcesRulesInAChild) {
  auto bpf = compile_seccomp(rules(), m::Arch::kX86_64);
  ASSERT_TRUE(bpf.ok()) << bpf.error().message;
  int st = run_filtered(*bpf, allowed_and_denied);
  ASSERT_TRUE(WIFEXITED(st)) << "status " << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
  st = run_filtered(*bpf, calls_killed_syscall);
  ASSERT_TRUE(WIFSIGNALED(st)) << "status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGSYS);
}

TEST(Seccomp, BakedPolicyFilterSurvivesEncodingAndLoads) {
  m::Manifest man = testing::full_manifest();  // default allow, mkdir* -> EACCES, reboot -> kill
  auto blob = bake_binary(man);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto p = decode(*blob);
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_FALSE(p->seccomp.bpf.empty());
  int st = run_filtered(p->seccomp.bpf, [] {
    if (syscall(SYS_getppid) <= 0) return 1;
    if (syscall(SYS_mkdir, "/nonexistent-nb", 0700) != -1 || errno != EACCES) return 2;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

TEST(Seccomp, UnknownSyscallIsBadInput) {
  m::Seccomp s = rules();
  s.allow.push_back("no_such_call");
  auto bpf = compile_seccomp(s, m::Arch::kArm);
  ASSERT_FALSE(bpf.ok());
  EXPECT_EQ(bpf.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(bpf.error().message, "seccomp: unknown system call \"no_such_call\"");
}

TEST(Seccomp, DisabledMeansNoProgram) {
  m::Seccomp s = rules();
  s.enabled = false;
  auto bpf = compile_seccomp(s, m::Arch::kX86_64);
  ASSERT_TRUE(bpf.ok());
  EXPECT_TRUE(bpf->empty());
}

TEST(Seccomp, OutputIsReproducible) {
  m::Seccomp a = rules(), b = rules();
  std::reverse(b.allow.begin(), b.allow.end());
  auto x = compile_seccomp(a, m::Arch::kMips), y = compile_seccomp(b, m::Arch::kMips);
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_EQ(*x, *y);
}

// Foreign arches: the program checks the right AUDIT_ARCH first, and the
// syscall numbers it compares are libseccomp's numbers for that arch.
struct Foreign {
  m::Arch arch;
  const char* name;
};
class SeccompForeign : public ::testing::TestWithParam<Foreign> {};

TEST_P(SeccompForeign, ArchCheckAndSyscallNumbersMatchResolver) {
  const Foreign& f = GetParam();
  const ArchInfo* info = find_arch(f.name);
  ASSERT_NE(info, nullptr);
  m::Seccomp s = rules();
  s.allow.push_back("socket");  // multiplexed through socketcall on some arches
  // rules() names mkdir, which aarch64 and riscv64 lack: keep what exists.
  for (auto& r : s.deny)
    std::erase_if(r.syscalls, [&](const std::string& n) { return resolve_syscall(n, f.arch) != SyscallOnArch::kExists; });
  // Calls the build machine (x86_64) does not have: resolved through
  // libseccomp's pseudo numbers, they must still land on the target's numbers.
  // Each is kept only where it exists: a name of another arch is refused.
  std::vector<std::string> foreign;
  for (const char* n : {"cacheflush", "set_tls", "sysmips", "arm_fadvise64_64"})
    if (resolve_syscall(n, f.arch) == SyscallOnArch::kExists) foreign.push_back(n);
  if (!foreign.empty()) s.deny.push_back({foreign, m::SeccompAction::kErrno, EPERM});
  auto bpf = compile_seccomp(s, f.arch);
  ASSERT_TRUE(bpf.ok()) << bpf.error().message;
  BpfProblem problem = check_seccomp_bpf(*bpf, *info);
  EXPECT_EQ(problem.what, nullptr) << "insn " << problem.insn << ": " << problem.what;
  // The arch compared must be the target's, in the target's byte order.
  BpfInsnValue cmp = bpf_insn(*bpf, 1, info->big_endian);
  EXPECT_EQ(cmp.k, info->audit_arch);

  // Walk the program tracking whether A holds seccomp_data.nr; collect the
  // constants it is compared with.
  std::set<uint32_t> compared;
  bool a_is_nr = false;
  for (size_t i = 0; i < bpf->size() / 8; ++i) {
    BpfInsnValue in = bpf_insn(*bpf, i, info->big_endian);
    if (BPF_CLASS(in.code) == BPF_LD) a_is_nr = in.code == (BPF_LD | BPF_W | BPF_ABS) && in.k == 0;
    if (BPF_CLASS(in.code) == BPF_ALU || BPF_CLASS(in.code) == BPF_MISC) a_is_nr = false;
    if (BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) != BPF_JA && BPF_SRC(in.code) == BPF_K && a_is_nr)
      compared.insert(in.k);
  }
  uint32_t scmp = libseccomp_arch(f.arch);
  std::set<std::string> names;
  for (const auto& n : s.allow) names.insert(n);
  for (const auto& r : s.deny) names.insert(r.syscalls.begin(), r.syscalls.end());
  for (const std::string& n : names) {
    int nr = seccomp_syscall_resolve_name_arch(scmp, n.c_str());
    // Every name exists on the arch (others are refused); a negative number
    // is a call multiplexed through socketcall, compared there.
    ASSERT_EQ(resolve_syscall(n, f.arch), SyscallOnArch::kExists) << n << " on " << f.name;
    if (nr < 0) {
      EXPECT_TRUE(compared.count(static_cast<uint32_t>(seccomp_syscall_resolve_name_arch(scmp, "socketcall"))))
          << n << ": socketcall not compared on " << f.name;
      continue;
    }
    EXPECT_TRUE(compared.count(static_cast<uint32_t>(nr))) << n << " (" << nr << ") not compared on " << f.name;
  }
  for (uint32_t k : compared) {
    char* name = seccomp_syscall_resolve_num_arch(scmp, static_cast<int>(k));
    if (!name) {
      // x86_64 only: the x32 ABI guard (nr >= 0x40000000) and nr == -1.
      EXPECT_TRUE(f.arch == m::Arch::kX86_64 && (k == 0x40000000u || k == 0xffffffffu))
          << f.name << ": unknown number " << k;
      continue;
    }
    std::string n(name);
    free(name);
    EXPECT_TRUE(names.count(n) || n == "socketcall") << f.name << ": compares " << n;
  }
}

// A name of another arch ("open" on aarch64) used to vanish from the filter:
// the rule the author wrote was silently not there. It is refused instead.
TEST(Seccomp, NameOfAnotherArchIsRefused) {
  m::Seccomp s = rules();
  s.deny[0].syscalls = {"mkdirat"};
  s.deny.push_back({{"open"}, m::SeccompAction::kKill, 0});
  auto bpf = compile_seccomp(s, m::Arch::kAarch64);
  ASSERT_FALSE(bpf.ok());
  EXPECT_EQ(bpf.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(bpf.error().message, "seccomp: system call \"open\" does not exist on aarch64");
  EXPECT_EQ(resolve_syscall("open", m::Arch::kAarch64), SyscallOnArch::kOtherArch);
  EXPECT_EQ(resolve_syscall("open", m::Arch::kX86_64), SyscallOnArch::kExists);
  EXPECT_EQ(resolve_syscall("no_such_call", m::Arch::kX86_64), SyscallOnArch::kUnknown);
}

INSTANTIATE_TEST_SUITE_P(Arches, SeccompForeign,
                         ::testing::Values(Foreign{m::Arch::kX86_64, "x86_64"}, Foreign{m::Arch::kI386, "i386"},
                                           Foreign{m::Arch::kAarch64, "aarch64"}, Foreign{m::Arch::kArm, "arm"},
                                           Foreign{m::Arch::kMips, "mips"}, Foreign{m::Arch::kMipsel, "mipsel"},
                                           Foreign{m::Arch::kPowerpc, "powerpc"},
                                           Foreign{m::Arch::kRiscv64, "riscv64"}),
                         [](const auto& info) { return std::string(info.param.name); });

// The one architecture table also gives the ELF machine compose checks
// rootfs.binaries against (composer/select.cc): AUDIT_ARCH_* minus its flags.
TEST(Arch, ElfMachineComesFromTheAuditArch) {
  const std::pair<const char*, uint16_t> want[] = {{"x86_64", EM_X86_64}, {"aarch64", EM_AARCH64}, {"arm", EM_ARM},
                                                   {"mips", EM_MIPS},     {"mipsel", EM_MIPS},      {"powerpc", EM_PPC},
                                                   {"riscv64", EM_RISCV}, {"i386", EM_386}};
  ASSERT_EQ(std::size(kArches), std::size(want));
  for (const auto& [name, machine] : want) {
    const ArchInfo* a = find_arch(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_EQ(elf_machine(*a), machine) << name;
  }
}

}  // namespace
}  // namespace nestbox::policy
