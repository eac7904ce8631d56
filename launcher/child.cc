#include "launcher/child.h"

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launcher/namespaces.h"
#include "launcher/privileges.h"
#include "launcher/process.h"
#include "launcher/sync.h"

namespace nestbox::launcher {
namespace {

Status redirect_stdio(const Options& o) {
  int fds[3] = {o.stdin_fd, o.stdout_fd, o.stderr_fd};
  for (int i = 0; i < 3; ++i)
    if (fds[i] >= 0 && ::dup2(fds[i], i) < 0) return sys_error("dup2 stdio");
  return {};
}

Status enter_user_namespace(const ChildPlan& plan) {
  const policy::Policy& p = *plan.policy;
  if (ns_new(p, policy::kNsUser)) {
    if (::unshare(CLONE_NEWUSER) != 0) return sys_error("unshare user namespace");
    NESTBOX_TRY(sync_send(plan.sync_fd, kSyncUserns));
    NESTBOX_TRY(sync_expect(plan.sync_fd, kSyncMapped));
  } else {
    NESTBOX_TRY(join_user(*plan.joins));
  }
  return {};
}

// Everything up to the point where the container's processes are started.
Status setup(const ChildPlan& plan) {
  const policy::Policy& p = *plan.policy;
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return sys_error("PR_SET_PDEATHSIG");
  // Not dumpable: container processes, even root with CAP_SYS_PTRACE in the
  // user namespace, cannot ptrace nestbox's init or open its /proc files.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return sys_error("PR_SET_DUMPABLE");
  NESTBOX_TRY(redirect_stdio(*plan.options));
  NESTBOX_TRY_CTX(plan.cgroup->add(0), "join cgroup");  // before anything can fork
  if (plan.wait_for_go) NESTBOX_TRY(sync_expect(plan.sync_fd, kSyncGo));
  NESTBOX_TRY(join_namespaces(*plan.joins));
  if (ns_new(p, policy::kNsUts)) NESTBOX_TRY(set_uts(p));
  if (ns_new(p, policy::kNsNet)) NESTBOX_TRY(loopback_up());
  if (p.namespaces[policy::kNsMount].mode != policy::NsMode::kJoin) {
    if (::mount("", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return sys_error("make / private");
    NESTBOX_TRY_CTX(mount_rootfs(p, *plan.source, plan.devices), "rootfs");
    NESTBOX_TRY(mount_inside(p, *plan.options, plan.devices.root_dir));
    NESTBOX_TRY(enter_root(p, plan.devices.root_dir));
  }
  if (ns_new(p, policy::kNsCgroup) && ::unshare(CLONE_NEWCGROUP) != 0)
    return sys_error("unshare cgroup namespace");
  return enter_user_namespace(plan);
}

[[noreturn]] void fail(const ChildPlan& plan, const Error& e) {
  sync_send_error(plan.sync_fd, e);
  ::_exit(1);
}

// Forks a process that becomes `argv` under the profile.
pid_t spawn(const ChildPlan& plan, const std::vector<std::string>& argv) {
  pid_t pid = ::fork();
  if (pid == 0) fail(plan, become_and_exec(plan.profile, argv));
  return pid;
}

}  // namespace

void container_main(const ChildPlan& plan) {
  if (Status s = setup(plan); !s.ok()) fail(plan, s.error());
  const policy::Policy& p = *plan.policy;
  for (const policy::Service& svc : p.process.services)
    if (spawn(plan, svc.argv) < 0) fail(plan, sys_error("fork service " + svc.name));
  bool own_pid_ns = ns_new(p, policy::kNsPid);
  if (p.process.model == policy::Model::kSystem && own_pid_ns) {
    // The container's own init becomes pid 1.
    fail(plan, become_and_exec(plan.profile, p.process.argv));
  }
  // `process` model: nestbox's minimal init stays pid 1, reaping and forwarding.
  sigset_t forwarded = forwarded_signals();
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  pid_t main = spawn(plan, p.process.argv);
  if (main < 0) fail(plan, sys_error("fork main process"));
  // The init keeps no descriptor of the launcher's (loop devices, state lock).
#ifdef SYS_close_range
  ::syscall(SYS_close_range, 3, ~0U, 0);
#else
  for (int fd = 3; fd < 1024; ++fd) ::close(fd);
#endif
  ::prctl(PR_SET_NAME, "nestbox-init", 0, 0, 0);
  ::_exit(run_init(main));
}

}  // namespace nestbox::launcher
