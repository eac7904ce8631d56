#include "manifests/effective_seccomp.h"

#include <algorithm>
#include <cerrno>

namespace nestbox::manifests {

bool shares_host_user_namespace(const Manifest& m) { return m.namespaces.user.mode == NsMode::kHost; }

Seccomp effective_seccomp(const Manifest& m) {
  Seccomp s = m.seccomp;
  if (!shares_host_user_namespace(m)) return s;
  if (!s.enabled) s = Seccomp{.enabled = true, .default_action = SeccompAction::kAllow};
  // errno, kill and trap defaults already stop every call `allow` does not
  // name; allow and log (which lets the call run) do not.
  bool default_lets_through = s.default_action == SeccompAction::kAllow || s.default_action == SeccompAction::kLog;
  if (!default_lets_through) return s;
  auto named = [&](std::string_view call) {
    if (std::find(s.allow.begin(), s.allow.end(), call) != s.allow.end()) return true;
    for (const SeccompRule& r : s.deny)
      if (std::find(r.syscalls.begin(), r.syscalls.end(), call) != r.syscalls.end()) return true;
    return false;
  };
  SeccompRule guard{.action = SeccompAction::kErrno, .errno_value = EPERM};
  for (std::string_view call : kKeyringSyscalls)
    if (!named(call)) guard.syscalls.emplace_back(call);
  if (!guard.syscalls.empty()) s.deny.push_back(std::move(guard));
  return s;
}

}  // namespace nestbox::manifests
