#include "policy/seccomp_compile.h"

#include <gtest/gtest.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <algorithm>
#include <set>

#include "manifests/effective_seccomp.h"
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

// A container in the host's user namespace runs as a host uid: without the
// guard its processes would read (and fill) that uid's user keyring, here
// root's, where the test puts a key first.
const char kHostSecret[] = "nestbox-test-host-user-key";

int keyring_calls_refused() {
  if (syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", kHostSecret, 0) != -1 || errno != EPERM)
    return 1;
  if (syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0) != -1 || errno != EPERM) return 2;
  if (syscall(SYS_add_key, "user", "nestbox-test-filled", "x", 1, KEY_SPEC_USER_KEYRING) != -1 || errno != EPERM)
    return 3;
  if (syscall(SYS_request_key, "user", kHostSecret, nullptr, 0) != -1 || errno != EPERM) return 4;
  if (syscall(SYS_getppid) <= 0) return 5;  // everything else still runs
  return 0;
}

int host_key_found() {
  return syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", kHostSecret, 0) >= 0 ? 0 : 1;
}

TEST(Seccomp, HostUserNamespaceKeepsTheHostUidsKeyringOutOfReach) {
  const char secret[] = "host secret";
  long key = syscall(SYS_add_key, "user", kHostSecret, secret, sizeof secret - 1, KEY_SPEC_USER_KEYRING);
  if (key < 0 && errno == ENOSYS) GTEST_SKIP() << "kernel without keys";
  ASSERT_GE(key, 0) << std::strerror(errno);
  struct Unlink {
    long key;
    ~Unlink() { syscall(SYS_keyctl, KEYCTL_INVALIDATE, key); }
  } unlink{key};

  m::Manifest man = testing::full_manifest();
  man.seccomp = {};  // no [seccomp] at all
  ASSERT_EQ(man.namespaces.user.mode, m::NsMode::kHost);
  auto blob = bake_binary(man);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto p = decode(*blob);
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_FALSE(p->seccomp.bpf.empty());
  // The control: the same child without the filter finds root's key.
  pid_t pid = fork();
  if (pid == 0) syscall(SYS_exit_group, host_key_found());
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  ASSERT_EQ(WEXITSTATUS(st), 0) << "the control child did not find the key";
  st = run_filtered(p->seccomp.bpf, keyring_calls_refused);
  ASSERT_TRUE(WIFEXITED(st)) << "status " << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);

  // In a user namespace of its own the user keyring is that namespace's:
  // no guard, and no filter the manifest did not ask for.
  man.namespaces.user.mode = m::NsMode::kNew;
  EXPECT_FALSE(m::effective_seccomp(man).enabled);
}

TEST(Seccomp, KeyringGuardAddsOnlyWhatTheRulesLetThrough) {
  m::Manifest man = testing::full_manifest();  // host user namespace
  auto guard = [&]() -> std::vector<std::string> {
    m::Seccomp s = m::effective_seccomp(man);
    if (s.deny.size() == man.seccomp.deny.size()) return {};
    EXPECT_EQ(s.deny.back().action, m::SeccompAction::kErrno);
    EXPECT_EQ(s.deny.back().errno_value, EPERM);
    return s.deny.back().syscalls;
  };
  man.seccomp.default_action = m::SeccompAction::kAllow;
  EXPECT_EQ(guard(), (std::vector<std::string>{"add_key", "keyctl", "request_key"}));
  man.seccomp.default_action = m::SeccompAction::kLog;  // logs, then lets the call run
  EXPECT_EQ(guard(), (std::vector<std::string>{"add_key", "keyctl", "request_key"}));
  man.seccomp.deny.push_back({{"keyctl"}, m::SeccompAction::kKill, 0});  // its own rule stays the only one
  EXPECT_EQ(guard(), (std::vector<std::string>{"add_key", "request_key"}));
  man.seccomp.allow = {"request_key"};  // named: the manifest's signed decision
  EXPECT_EQ(guard(), (std::vector<std::string>{"add_key"}));
  for (m::SeccompAction a : {m::SeccompAction::kErrno, m::SeccompAction::kKill, m::SeccompAction::kTrap}) {
    man.seccomp.default_action = a;  // the default already stops every call not allowed
    EXPECT_EQ(guard(), std::vector<std::string>{});
  }
}

// A container in the host's user namespace that makes a user namespace of
// its own holds every capability there and mounts cgroups, proc, tmpfs; one
// granted CAP_DAC_OVERRIDE (or CAP_FOWNER, CAP_CHOWN, CAP_SETUID) in the
// host's user namespace then wrote from outside what its nested namespace
// had mounted. Its filter refuses every way into a user namespace, on this
// kernel, whatever the manifest's rules name; other clones, unshares and
// setns still run. Exit code: 0, or the step that went wrong.
int user_namespaces_refused() {
  if (syscall(SYS_unshare, CLONE_NEWUSER) != -1 || errno != EPERM) return 1;
  if (syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS) != -1 || errno != EPERM) return 2;
  long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (r == 0) syscall(SYS_exit_group, 0);
  if (r != -1 || errno != EPERM) return 3;
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } args = {CLONE_NEWUSER, 0, 0, 0, SIGCHLD, 0, 0, 0};
  r = syscall(__NR_clone3, &args, sizeof args);
  if (r == 0) syscall(SYS_exit_group, 0);
  if (r != -1 || errno != ENOSYS) return 4;
  int user = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC), net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (user < 0 || net < 0) return 5;
  if (syscall(SYS_setns, user, 0) != -1 || errno != EPERM) return 6;
  if (syscall(SYS_setns, user, CLONE_NEWUSER) != -1 || errno != EPERM) return 7;
  if (syscall(SYS_setns, net, 0x100000000ll) != -1 || errno != EPERM) return 8;  // nstype is an int: 0
  // What is not a user namespace still works: a plain fork, unshare(0),
  // joining its own network namespace by type.
  r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (r == 0) syscall(SYS_exit_group, 0);
  if (r <= 0) return 9;
  if (syscall(SYS_wait4, r, nullptr, 0, nullptr) != r) return 10;
  if (syscall(SYS_unshare, 0) != 0) return 11;
  if (syscall(SYS_setns, net, CLONE_NEWNET) != 0) return 12;
  return 0;
}

int user_namespace_made() {
  return syscall(SYS_unshare, CLONE_NEWUSER) == 0 ? 0 : 1;
}

TEST(Seccomp, HostUserNamespaceCannotMakeOrJoinAUserNamespace) {
  // The control: without a filter this kernel makes one.
  pid_t pid = fork();
  if (pid == 0) syscall(SYS_exit_group, user_namespace_made());
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  if (WEXITSTATUS(st) != 0) GTEST_SKIP() << "no user namespaces here";

  m::Manifest man = testing::full_manifest();  // host user namespace
  auto check = [&](const char* what) {
    SCOPED_TRACE(what);
    auto blob = bake_binary(man);
    ASSERT_TRUE(blob.ok()) << blob.error().message;
    auto p = decode(*blob);
    ASSERT_TRUE(p.ok()) << p.error().message;
    int st = run_filtered(p->seccomp.bpf, user_namespaces_refused);
    ASSERT_TRUE(WIFEXITED(st)) << "status " << st;
    EXPECT_EQ(WEXITSTATUS(st), 0);
  };
  man.seccomp = {};  // no [seccomp]: a filter of its own
  check("no [seccomp]");
  man.seccomp = {.enabled = true, .default_action = m::SeccompAction::kAllow};
  man.seccomp.allow = {"clone", "clone3", "unshare", "setns"};  // named, under an allowing default
  man.seccomp.deny = {{{"reboot"}, m::SeccompAction::kKill, 0}};
  check("default allow");
  man.seccomp.allow.clear();
  man.seccomp.deny.push_back({{"unshare", "setns", "clone3"}, m::SeccompAction::kLog, 0});  // logged, then run
  check("deny rule that logs");
  // An allow-list that allows them by name: the allowed calls become
  // conditional, the user namespace ones still refused.
  man.seccomp = {.enabled = true, .default_action = m::SeccompAction::kErrno, .default_errno = ENOSYS};
  man.seccomp.allow = {"clone", "clone3", "unshare", "setns", "open", "openat", "wait4", "exit_group", "exit",
                       "getpid", "rt_sigreturn", "close"};
  check("allow-list");

  // In a user namespace of its own a nested one is harmless: not refused.
  man.namespaces.user.mode = m::NsMode::kNew;
  m::Seccomp s = m::effective_seccomp(man);
  EXPECT_TRUE(std::none_of(s.deny.begin(), s.deny.end(), [](const m::SeccompRule& r) { return !r.args.empty(); }));
  EXPECT_NE(std::find(s.allow.begin(), s.allow.end(), "unshare"), s.allow.end());
}

// io_uring performs opens, connects and more as opcodes that seccomp never
// sees: a filter that lets calls through by default and denies `openat` was
// bypassed with IORING_OP_OPENAT. The baked filter denies the ring's calls
// then (ENOSYS), on the real kernel.
int io_uring_refused() {
  char params[120] = {};  // struct io_uring_params
  if (syscall(__NR_io_uring_setup, 4, params) != -1 || errno != ENOSYS) return 1;
  if (syscall(__NR_io_uring_enter, -1, 0, 0, 0, nullptr, 0) != -1 || errno != ENOSYS) return 2;
  if (syscall(__NR_io_uring_register, -1, 0, nullptr, 0) != -1 || errno != ENOSYS) return 3;
  if (syscall(SYS_getppid) <= 0) return 4;  // everything else still runs
  return 0;
}

TEST(Seccomp, DenyRulesIoUringWouldBypassDenyTheRingToo) {
  m::Manifest man = testing::full_manifest();
  man.seccomp.default_action = m::SeccompAction::kAllow;
  man.seccomp.deny = {{{"openat", "open"}, m::SeccompAction::kErrno, EACCES}};
  auto blob = bake_binary(man);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto p = decode(*blob);
  ASSERT_TRUE(p.ok()) << p.error().message;
  // The control: without the filter this kernel makes a ring.
  char params[120] = {};
  long ring = syscall(__NR_io_uring_setup, 4, params);
  if (ring < 0) GTEST_SKIP() << "no io_uring here: " << std::strerror(errno);
  close(static_cast<int>(ring));
  int st = run_filtered(p->seccomp.bpf, io_uring_refused);
  ASSERT_TRUE(WIFEXITED(st)) << "status " << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);

  // The rule effective_seccomp added for io_uring (the keyring guard, for
  // this host user namespace, comes after it).
  auto guard = [&]() -> std::vector<std::string> {
    m::Seccomp s = m::effective_seccomp(man);
    for (size_t i = man.seccomp.deny.size(); i < s.deny.size(); ++i) {
      const m::SeccompRule& r = s.deny[i];
      if (r.syscalls.empty() || r.syscalls[0].rfind("io_uring_", 0) != 0) continue;
      EXPECT_EQ(r.action, m::SeccompAction::kErrno);
      EXPECT_EQ(r.errno_value, ENOSYS);
      return r.syscalls;
    }
    return {};
  };
  const std::vector<std::string> all{"io_uring_enter", "io_uring_register", "io_uring_setup"};
  EXPECT_EQ(guard(), all);
  man.seccomp.deny = {{{"connect"}, m::SeccompAction::kKill, 0}};  // any call a ring can make
  EXPECT_EQ(guard(), all);
  man.seccomp.default_action = m::SeccompAction::kLog;  // logs, then lets the call run
  EXPECT_EQ(guard(), all);
  man.seccomp.deny.push_back({{"io_uring_enter"}, m::SeccompAction::kKill, 0});  // its own rule stays
  EXPECT_EQ(guard(), (std::vector<std::string>{"io_uring_register", "io_uring_setup"}));
  man.seccomp.deny = {{{"ptrace", "reboot"}, m::SeccompAction::kErrno, EPERM}};  // nothing a ring can do
  EXPECT_EQ(guard(), std::vector<std::string>{});
  man.seccomp.deny = {{{"openat"}, m::SeccompAction::kErrno, EPERM}};
  man.seccomp.allow = {"io_uring_setup"};  // named: the manifest's signed decision
  EXPECT_EQ(guard(), std::vector<std::string>{});
  man.seccomp.allow.clear();
  for (m::SeccompAction a : {m::SeccompAction::kErrno, m::SeccompAction::kKill, m::SeccompAction::kTrap}) {
    man.seccomp.default_action = a;  // the default already stops io_uring_setup unless allowed
    EXPECT_EQ(guard(), std::vector<std::string>{});
  }
}

// Exit code: 0 when the new mount API and execveat are refused as `mount`
// and `execve` are; 10 + step when one of them got through.
int mount_and_exec_aliases_refused() {
  // A user and mount namespace of its own: CAP_SYS_ADMIN over its mounts, so
  // only the filter stands between the call and a tmpfs.
  if (syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS) != 0) return 1;
  if (syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, nullptr) != -1 || errno != EPERM) return 2;
  long fs = syscall(SYS_fsopen, "tmpfs", 0);
  if (fs >= 0 || errno != EPERM) return 10 + 1;
  if (syscall(SYS_open_tree, AT_FDCWD, "/", 0) != -1 || errno != EPERM) return 10 + 2;
  char* const argv[] = {nullptr};
  if (syscall(SYS_execveat, AT_FDCWD, "/nonexistent-nb", argv, argv, 0) != -1 || errno != EPERM) return 10 + 3;
  return 0;
}

// A manifest whose filter lets calls through by default and denies `denied`
// with EPERM, in a user namespace of its own: one in the host's may not nest
// one at all (HostUserNamespaceCannotMakeOrJoinAUserNamespace).
m::Manifest default_allow_denying(std::vector<std::string> denied) {
  m::Manifest man = testing::full_manifest();
  man.namespaces.user.mode = m::NsMode::kNew;
  man.users = {.user_namespace = true, .uid_map = {{0, 100000, 65536}}, .gid_map = {{0, 100000, 65536}}};
  man.seccomp.default_action = m::SeccompAction::kAllow;
  man.seccomp.allow.clear();
  man.seccomp.deny = {{std::move(denied), m::SeccompAction::kErrno, EPERM}};
  return man;
}

// `body`'s exit code under `man`'s rules compiled as written (the control),
// and under its baked filter; -1 when it did not exit.
int exit_as_written(const m::Manifest& man, int (*body)()) {
  auto bpf = compile_seccomp(man.seccomp, m::Arch::kX86_64);
  EXPECT_TRUE(bpf.ok()) << bpf.error().message;
  int st = bpf.ok() ? run_filtered(*bpf, body) : -1;
  return bpf.ok() && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
int exit_baked(const m::Manifest& man, int (*body)()) {
  auto blob = bake_binary(man);
  EXPECT_TRUE(blob.ok()) << blob.error().message;
  if (!blob.ok()) return -1;
  auto p = decode(*blob);
  EXPECT_TRUE(p.ok()) << p.error().message;
  if (!p.ok()) return -1;
  int st = run_filtered(p->seccomp.bpf, body);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// A deny rule is widened to the calls that do its calls' work by another
// entry point: `mount` denied, fsopen + fsmount + move_mount mounted anyway.
TEST(Seccomp, DenyRulesHoldAgainstAliasCalls) {
  m::Manifest man = default_allow_denying({"mount", "execve"});
  // The control: the manifest's rule as written lets the new mount API in.
  int code = exit_as_written(man, mount_and_exec_aliases_refused);
  if (code == 1) GTEST_SKIP() << "no user namespaces here";
  ASSERT_EQ(code, 10 + 1) << "fsopen was refused without the aliases";
  EXPECT_EQ(exit_baked(man, mount_and_exec_aliases_refused), 0);

  m::Seccomp s = m::effective_seccomp(man);
  ASSERT_FALSE(s.deny.empty());
  EXPECT_EQ(s.deny[0].syscalls, (std::vector<std::string>{"mount", "execve", "fsopen", "fsconfig", "fsmount",
                                                          "fspick", "move_mount", "open_tree", "mount_setattr",
                                                          "execveat"}));
  // An alias the manifest names itself is its own decision.
  man.seccomp.allow = {"execveat"};
  s = m::effective_seccomp(man);
  EXPECT_EQ(std::count(s.deny[0].syscalls.begin(), s.deny[0].syscalls.end(), "execveat"), 0);
  // Narrower calls are never added: denying clone3 alone makes glibc fall back to clone.
  man.seccomp.allow.clear();
  man.seccomp.deny = {{{"clone3", "openat2"}, m::SeccompAction::kErrno, ENOSYS}};
  EXPECT_EQ(m::effective_seccomp(man).deny[0].syscalls, (std::vector<std::string>{"clone3", "openat2"}));
  // A default that stops calls already stops the aliases unless allowed.
  man.seccomp.default_action = m::SeccompAction::kErrno;
  man.seccomp.deny = {{{"mount"}, m::SeccompAction::kKill, 0}};
  EXPECT_EQ(m::effective_seccomp(man).deny[0].syscalls, std::vector<std::string>{"mount"});
  // Names of another arch are skipped: aarch64 has neither `open` nor `creat`.
  man.arch = m::Arch::kAarch64;
  man.seccomp.default_action = m::SeccompAction::kAllow;
  man.seccomp.deny = {{{"openat"}, m::SeccompAction::kErrno, EPERM}};
  EXPECT_EQ(m::effective_seccomp(man).deny[0].syscalls, (std::vector<std::string>{"openat", "openat2"}));
}

// Exit code: 0 when every other entry point to `kill`, `chmod` and
// `mprotect`'s work is refused with EPERM; 10 + step for the first one that
// got through (signal 0 and unchanged modes: nothing happens when it does).
// A signal to one of its own threads still passes (raise, glibc's setuid).
int signal_mode_and_protection_aliases_refused() {
  if (syscall(SYS_kill, getpid(), 0) != -1 || errno != EPERM) return 1;  // the rule itself
  long pidfd = syscall(SYS_pidfd_open, getpid(), 0);
  if (pidfd >= 0 && (syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) != -1 || errno != EPERM)) return 10 + 1;
  siginfo_t info{};
  info.si_code = SI_QUEUE;
  if (syscall(SYS_rt_sigqueueinfo, getpid(), 0, &info) != -1 || errno != EPERM) return 10 + 2;
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 2;
  if (syscall(SYS_fchmod, fd, 0755) != -1 || errno != EPERM) return 10 + 3;
  long page = sysconf(_SC_PAGESIZE);
  void* mem = mmap(nullptr, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 3;
  if (syscall(SYS_pkey_mprotect, mem, page, PROT_READ, -1) != -1 || errno != EPERM) return 10 + 4;
  if (syscall(SYS_tgkill, getpid(), gettid(), 0) != 0) return 4;
  return 0;
}

// Review 7: `kill` denied, pidfd_send_signal still delivered signals;
// `chmod` denied, fchmod changed modes; `mprotect` denied, pkey_mprotect
// changed protections.
TEST(Seccomp, DenyRulesHoldAgainstSignalModeAndProtectionAliases) {
  m::Manifest man = default_allow_denying({"kill", "chmod", "mprotect"});
  ASSERT_EQ(exit_as_written(man, signal_mode_and_protection_aliases_refused), 10 + 1)
      << "pidfd_send_signal was refused without the aliases";
  EXPECT_EQ(exit_baked(man, signal_mode_and_protection_aliases_refused), 0);
}

// On 32-bit arches libc itself calls the *32 and *64 forms (musl's
// truncate, chown and clock_settime): a rule naming the plain call is
// widened to them, on the arches that have them.
TEST(Seccomp, DenyRulesCoverThe32BitFormsOfTheirCalls) {
  m::Manifest man = default_allow_denying({"truncate", "chown", "setuid", "clock_settime"});
  man.arch = m::Arch::kArm;
  std::vector<std::string> arm = m::effective_seccomp(man).deny[0].syscalls;
  for (const char* c : {"truncate64", "ftruncate64", "chown32", "fchown32", "lchown32", "setuid32", "setresuid32",
                        "clock_settime64", "clock_adjtime64"})
    EXPECT_EQ(std::count(arm.begin(), arm.end(), c), 1) << c << " on arm";
  man.arch = m::Arch::kMipsel;  // no *32 ids there, but the time64 and 64-bit file calls
  std::vector<std::string> mipsel = m::effective_seccomp(man).deny[0].syscalls;
  for (const char* c : {"truncate64", "clock_settime64", "stime"})
    EXPECT_EQ(std::count(mipsel.begin(), mipsel.end(), c), 1) << c << " on mipsel";
  EXPECT_EQ(std::count(mipsel.begin(), mipsel.end(), "chown32"), 0);
  man.arch = m::Arch::kX86_64;
  std::vector<std::string> x86 = m::effective_seccomp(man).deny[0].syscalls;
  EXPECT_EQ(std::count(x86.begin(), x86.end(), "truncate64"), 0);
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

// The launcher's device architecture and learn-seccomp's "this machine" come
// from the compiler's target, named by the one table.
TEST(Arch, BuildArchIsThisMachine) {
  ASSERT_NE(kBuildAuditArch, 0u);
  const ArchInfo* a = find_arch(build_arch_name());
  ASSERT_NE(a, nullptr) << build_arch_name();
  EXPECT_EQ(a->audit_arch, kBuildAuditArch);
  struct utsname u;
  ASSERT_EQ(uname(&u), 0);
  if (find_arch(u.machine)) {
    EXPECT_STREQ(build_arch_name(), u.machine);
  }
}

}  // namespace
}  // namespace nestbox::policy
