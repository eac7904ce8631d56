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

}  // namespace

Seccomp effective_seccomp(const Manifest& m) {
  Seccomp s = m.seccomp;
  add_alias_guard(s, m.arch);
  add_io_uring_guard(s);
  if (!shares_host_user_namespace(m)) return s;
  if (!s.enabled) s = Seccomp{.enabled = true, .default_action = SeccompAction::kAllow};
  if (!default_lets_through(s)) return s;
  auto named = [&](std::string_view call) { return named_in(s, call); };
  SeccompRule guard{.action = SeccompAction::kErrno, .errno_value = EPERM};
  for (std::string_view call : kKeyringSyscalls)
    if (!named(call)) guard.syscalls.emplace_back(call);
  if (!guard.syscalls.empty()) s.deny.push_back(std::move(guard));
  return s;
}

}  // namespace nestbox::manifests
