#include "manifests/effective_seccomp.h"

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "policy/syscall_arch.h"

namespace nestbox::manifests {

bool shares_host_user_namespace(const Manifest& m) { return m.namespaces.user.mode == NsMode::kHost; }

namespace {

// errno, kill and trap defaults already stop every call `allow` does not
// name; allow and log (which lets the call run) do not.
bool default_lets_through(const Seccomp& s) {
  return s.default_action == SeccompAction::kAllow || s.default_action == SeccompAction::kLog;
}

bool named_in(const Seccomp& s, std::string_view call) {
  if (std::find(s.allow.begin(), s.allow.end(), call) != s.allow.end()) return true;
  for (const SeccompRule& r : s.deny)
    if (std::find(r.syscalls.begin(), r.syscalls.end(), call) != r.syscalls.end()) return true;
  return false;
}

// Each deny rule also denies the calls that would do its calls' work.
void add_alias_guard(Seccomp& s, Arch arch) {
  if (!s.enabled || !default_lets_through(s)) return;
  const Seccomp named = s;  // what the manifest itself names
  for (SeccompRule& rule : s.deny) {
    std::vector<std::string> widened;
    for (const std::string& call : rule.syscalls)
      for (const SyscallAliases& a : kSyscallAliases) {
        if (a.denied != call) continue;
        for (std::string_view alias : a.also) {
          if (alias.empty()) continue;
          std::string name(alias);
          if (named_in(named, alias) || std::find(widened.begin(), widened.end(), name) != widened.end()) continue;
          if (policy::resolve_syscall(name, arch) != policy::SyscallOnArch::kExists) continue;
          widened.push_back(std::move(name));
        }
      }
    for (std::string& name : widened)
      if (!named_in(s, name)) rule.syscalls.push_back(std::move(name));
  }
}

// A deny rule io_uring would bypass: the ring's calls are denied too.
void add_io_uring_guard(Seccomp& s) {
  if (!s.enabled || !default_lets_through(s) || named_in(s, "io_uring_setup")) return;
  bool bypassable = std::any_of(std::begin(kIoUringReachable), std::end(kIoUringReachable), [&](std::string_view c) {
    return std::any_of(s.deny.begin(), s.deny.end(), [&](const SeccompRule& r) {
      return std::find(r.syscalls.begin(), r.syscalls.end(), c) != r.syscalls.end();
    });
  });
  if (!bypassable) return;
  SeccompRule guard{.action = SeccompAction::kErrno, .errno_value = ENOSYS};
  for (std::string_view call : kIoUringSyscalls)
    if (!named_in(s, call)) guard.syscalls.emplace_back(call);
  s.deny.push_back(std::move(guard));
}

// The action the rules give `call` as they stand (its unconditional rule, or
// the default), and whether a rule names it.
struct Given {
  SeccompAction action;
  int errno_value;
  bool named;
};

Given given(const Seccomp& s, std::string_view call) {
  for (const SeccompRule& r : s.deny)
    if (r.args.empty() && std::find(r.syscalls.begin(), r.syscalls.end(), call) != r.syscalls.end())
      return {r.action, r.errno_value, true};
  if (std::find(s.allow.begin(), s.allow.end(), call) != s.allow.end()) return {SeccompAction::kAllow, 0, true};
  return {s.default_action, s.default_errno, false};
}

void unname(Seccomp& s, std::string_view call) {
  std::erase(s.allow, call);
  for (SeccompRule& r : s.deny)
    if (r.args.empty()) std::erase(r.syscalls, call);
}

// Denies `call` with `err` whenever one of `deny_when` holds, where the rules
// let it through (allow, log). A name the manifest allows or logs becomes
// conditional rules (`pass_when`, with the manifest's action): libseccomp
// drops a conditional rule for a call that has an unconditional one, so the
// two cannot stand side by side. A call the rules deny already (any errno,
// kill, trap) keeps its rule: it stops the guarded calls too.
void guard_call(Seccomp& s, Arch arch, std::string_view call, const std::vector<std::vector<SeccompArg>>& deny_when,
                const std::vector<std::vector<SeccompArg>>& pass_when, int err) {
  if (policy::resolve_syscall(std::string(call), arch) != policy::SyscallOnArch::kExists) return;
  Given g = given(s, call);
  if (g.action != SeccompAction::kAllow && g.action != SeccompAction::kLog) return;
  if (g.named) {
    unname(s, call);
    for (const std::vector<SeccompArg>& when : pass_when)
      s.deny.push_back({{std::string(call)}, g.action, g.errno_value, when});
  }
  for (const std::vector<SeccompArg>& when : deny_when)
    s.deny.push_back({{std::string(call)}, SeccompAction::kErrno, err, when});
}

void add_user_namespace_guard(Seccomp& s, Arch arch) {
  const SeccompArg flags_user{0, kCloneNewUser, kCloneNewUser}, flags_no_user{0, kCloneNewUser, 0};
  for (std::string_view call : {"clone", "unshare"}) guard_call(s, arch, call, {{flags_user}}, {{flags_no_user}}, EPERM);
  // clone3 passes its flags in memory, out of a filter's reach: ENOSYS makes
  // libc fall back to clone.
  guard_call(s, arch, "clone3", {{}}, {}, ENOSYS);
  // setns(fd, 0) joins whatever namespace fd is, a user namespace too
  // (nstype is an int: only its low 32 bits count). Passed: a type bit set
  // and CLONE_NEWUSER not (one comparison: libseccomp takes one per argument).
  std::vector<std::vector<SeccompArg>> pass;
  for (uint64_t type : kOtherNamespaceTypes) pass.push_back({{1, type | kCloneNewUser, type}});
  guard_call(s, arch, "setns", {{{1, 0xffffffffu, 0}}, {{1, kCloneNewUser, kCloneNewUser}}}, pass, EPERM);
}

}  // namespace

Seccomp effective_seccomp(const Manifest& m) {
  Seccomp s = m.seccomp;
  add_alias_guard(s, m.arch);
  add_io_uring_guard(s);
  if (!shares_host_user_namespace(m)) return s;
  if (!s.enabled) s = Seccomp{.enabled = true, .default_action = SeccompAction::kAllow};
  add_user_namespace_guard(s, m.arch);
  if (!default_lets_through(s)) return s;
  auto named = [&](std::string_view call) { return named_in(s, call); };
  SeccompRule guard{.action = SeccompAction::kErrno, .errno_value = EPERM};
  for (std::string_view call : kKeyringSyscalls)
    if (!named(call)) guard.syscalls.emplace_back(call);
  if (!guard.syscalls.empty()) s.deny.push_back(std::move(guard));
  return s;
}

}  // namespace nestbox::manifests
