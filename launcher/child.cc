#include "launcher/child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "launcher/fds.h"
#include "launcher/namespaces.h"
#include "launcher/privileges.h"
#include "launcher/process.h"
#include "launcher/stdio_relay.h"
#include "launcher/supervisor.h"
#include "launcher/sync.h"
#include "util/file_io.h"

namespace nestbox::launcher {
namespace {

Status redirect_stdio(const Options& o) {
  int fds[3] = {o.stdin_fd, o.stdout_fd, o.stderr_fd};
  for (int i = 0; i < 3; ++i)
    if (fds[i] >= 0 && ::dup2(fds[i], i) < 0) return sys_error("dup2 stdio");
  return {};
}

// nestbox's init is a fork of the launcher: its /proc/<pid>/cmdline and
// environ would show the launcher's argv and environment (host paths) to the
// container. The ranges are read from the host's /proc (the container may
// have none); hide_launcher_args() wipes them later (mkfs still needs PATH).
// In place, no PR_SET_MM (it needs CAP_SYS_RESOURCE and a half-moved range
// would expose the memory between the new and the old one).
struct ArgRanges {
  unsigned long arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
};

Result<ArgRanges> arg_ranges() {
  auto stat = read_file("/proc/self/stat");
  if (!stat.ok()) return std::move(stat).error();
  // Fields 48..51 follow the ")" that ends comm (field 2).
  size_t pos = stat->rfind(')');
  if (pos == std::string::npos || pos + 2 > stat->size()) return failure("/proc/self/stat: no comm");
  const char* c = stat->c_str() + pos + 2;
  unsigned long f[52] = {};
  for (int field = 3; field <= 51 && *c; ++field) {
    char* end = nullptr;
    f[field] = std::strtoul(c, &end, 10);
    c = *end ? end + 1 : end;
  }
  ArgRanges r{f[48], f[49], f[50], f[51]};
  if (r.arg_start == 0 || r.arg_end <= r.arg_start || r.env_end < r.env_start)
    return failure("/proc/self/stat: no argument range");
  return r;
}

void hide_launcher_args(const ArgRanges& r) {
  static const char title[] = "nestbox-init";
  char* args = reinterpret_cast<char*>(r.arg_start);
  size_t len = r.arg_end - r.arg_start;
  std::memset(args, 0, len);
  std::memset(reinterpret_cast<void*>(r.env_start), 0, r.env_end - r.env_start);
  std::memcpy(args, title, std::min(len, sizeof title) - 1);
  // A last byte that is not NUL makes the kernel read the arguments as a
  // process title, up to the first NUL: cmdline is "nestbox-init\0", not the
  // title followed by the length of the launcher's command line in NULs.
  if (len > sizeof title) args[len - 1] = ' ';
}

// Still wanted by a launcher? The parent-death signal was armed only now: if
// the launcher died before, nobody would ever kill this process.
Status launcher_alive(int sync_fd) {
  pollfd pfd{sync_fd, POLLRDHUP, 0};
  if (::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR)))
    return failure("launcher went away during setup");
  return {};
}

// Dies with the launcher (checked still there: the signal is armed only
// now) and is not dumpable: container processes, even root with
// CAP_SYS_PTRACE in the user namespace, cannot ptrace nestbox's init or open
// its /proc files. Again after every change of the effective uid.
Status arm_against_the_container(int sync_fd) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return sys_error("PR_SET_PDEATHSIG");
  NESTBOX_TRY(launcher_alive(sync_fd));
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return sys_error("PR_SET_DUMPABLE");
  return {};
}

Status enter_user_namespace(const ChildPlan& plan) {
  const policy::Policy& p = *plan.policy;
  if (ns_new(p, policy::kNsUser)) {
    // The namespace's owner is the effective uid that makes it, and the
    // kernel charges the per-user counts of everything inside (inotify
    // instances, 128 by default; fanotify groups; user namespaces ...) to
    // its owner too, one level up. Made by root, a container holding 128
    // inotify instances left none to any root process of the host. Its
    // owner is kCgroupOwner: an id no container runs as or maps
    // (check_policy) and nothing on the host runs as. Only the effective id
    // changes (the effective capabilities go, none is needed here on).
    if (::setresuid(static_cast<uid_t>(-1), kCgroupOwner, static_cast<uid_t>(-1)) != 0)
      return sys_error("set the user namespace's owner");
    if (::unshare(CLONE_NEWUSER) != 0) return sys_error("unshare user namespace");
    // A change of the effective uid clears the parent-death signal and sets
    // dumpable to fs.suid_dumpable: both are armed again (setup()).
    NESTBOX_TRY(arm_against_the_container(plan.sync_fd));
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
  // A session of its own: kill(0, ...) and the terminal's SIGHUP/SIGTTOU/
  // SIGINT reach the container's processes only, never the launcher, `boot`
  // or a sibling container (they shared the launcher's process group).
  if (::setsid() < 0) return sys_error("setsid");
  NESTBOX_TRY(arm_against_the_container(plan.sync_fd));
  auto ranges = arg_ranges();
  if (!ranges.ok()) return std::move(ranges).error();
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
  NESTBOX_TRY(replace_host_null());
  // The root is mounted (loop devices opened): from now on only the minimal
  // /dev and the declared devices, before anything of the container runs.
  if (p.hotplug.empty()) {
    NESTBOX_TRY(sync_send(plan.sync_fd, kSyncDevices));
  } else {
    // The launcher makes hot-plugged nodes in this /dev (its tmpfs): the
    // directory itself, handed over before any of the container's code runs,
    // so nothing it later puts at /dev can redirect them.
    UniqueFd dev(::open("/dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dev) return sys_error("open /dev for hot-plugged devices");
    NESTBOX_TRY(sync_send_fd(plan.sync_fd, kSyncDevices, dev.get()));
  }
  NESTBOX_TRY(sync_expect(plan.sync_fd, kSyncRestricted));
  if (ns_new(p, policy::kNsCgroup) && ::unshare(CLONE_NEWCGROUP) != 0)
    return sys_error("unshare cgroup namespace");
  if (!(p.process.model == policy::Model::kSystem && ns_new(p, policy::kNsPid) && !p.process.argv.empty()))
    hide_launcher_args(*ranges);  // nestbox's init stays, not an exec'd program
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

// A hard limit of `limits` above this process's own: only CAP_SYS_RESOURCE
// may raise it, in the process that becomes a service.
bool raises_a_hard_limit(const std::vector<policy::Rlimit>& limits) {
  for (const policy::Rlimit& r : limits) {
    if (r.resource >= RLIM_NLIMITS) return true;  // apply_rlimits refuses it
#ifdef __GLIBC__
    auto resource = static_cast<__rlimit_resource>(r.resource);  // glibc's C++ prototype
#else
    int resource = static_cast<int>(r.resource);  // musl (OpenWrt)
#endif
    rlimit now;
    if (::getrlimit(resource, &now) != 0 || static_cast<rlim_t>(r.hard) > now.rlim_max) return true;
  }
  return false;
}

// What nestbox's init of the services model keeps of the launcher's
// capabilities for the container's life: only what starting a service again
// takes (become_and_exec in a fork of the init): the service's own set (the
// fork can hand on only what it has), CAP_SETPCAP to drop the bounding set to
// it, CAP_SETUID/CAP_SETGID for the service's ids and groups, CAP_KILL to
// signal services running as another user, CAP_SYS_RESOURCE only to raise a
// hard rlimit above the init's, CAP_SYS_ADMIN only to load a seccomp filter
// without no_new_privs. Nothing else of the host's root (CAP_SYS_ADMIN,
// CAP_DAC_OVERRIDE, CAP_SYS_MODULE, CAP_NET_ADMIN ...) stays within reach of
// the container should anything there get at pid 1.
uint64_t supervisor_caps(const ExecProfile& prof) {
  auto bit = [](int cap) { return uint64_t{1} << cap; };
  uint64_t keep = prof.caps | bit(CAP_KILL) | bit(CAP_SETPCAP) | bit(CAP_SETUID) | bit(CAP_SETGID);
  if (raises_a_hard_limit(prof.rlimits)) keep |= bit(CAP_SYS_RESOURCE);
  if (!prof.no_new_privs && !prof.seccomp.empty()) keep |= bit(CAP_SYS_ADMIN);
  return keep;
}

// Before any service starts: the init's bounding, permitted and effective
// sets become supervisor_caps(), and no_new_privs when the services get it
// anyway (it is inherited; a profile without it keeps setuid programs working).
Status reduce_supervisor(const ExecProfile& prof) {
  auto have = permitted_caps();
  if (!have.ok()) return std::move(have.error().context("nestbox-init"));
  // What the launcher itself lacks cannot be kept (a service needing it
  // fails at its own capset, as before).
  uint64_t keep = supervisor_caps(prof) & *have;
  NESTBOX_TRY_CTX(drop_bounding(keep), "nestbox-init");
  NESTBOX_TRY_CTX(set_caps(keep), "nestbox-init");
  if (prof.no_new_privs) NESTBOX_TRY_CTX(set_no_new_privs(), "nestbox-init");
  return {};
}

// model = "system" without a program of its own: nestbox's init supervises
// the services (launcher/supervisor.h).
[[noreturn]] void supervise_services(const ChildPlan& plan) {
  const policy::Policy& p = *plan.policy;
  if (Status s = reduce_supervisor(plan.profile); !s.ok()) fail(plan, s.error());
  // A service that cannot exec at the first start fails the launch (the
  // launcher reads the setup channel until every holder has exec'd); later
  // starts report on stderr and count as the service ending.
  int sync_fd = plan.sync_fd;
  Supervisor sup(
      p.process.services,
      [&plan, &sync_fd](const policy::Service& svc, int out, int err) -> pid_t {
        pid_t pid = ::fork();
        if (pid != 0) return pid;
        if (::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
        Error e = become_and_exec(plan.profile, svc.argv);
        e.context("service " + svc.name);
        if (sync_fd >= 0) sync_send_error(sync_fd, e);
        std::string msg = "nestbox-init: " + e.message + "\n";
        (void)!::write(2, msg.data(), msg.size());
        ::_exit(127);
      },
      plan.report_fd);
  if (Status s = sup.start(); !s.ok()) fail(plan, s.error());
  sync_fd = -1;
  // The init keeps no descriptor of the launcher's (loop devices, state lock,
  // the setup channel) nor of the launcher's caller.
  if (Status s = close_all_above_stdio_except(sup.fds()); !s.ok()) ::_exit(126);
  ::prctl(PR_SET_NAME, "nestbox-init", 0, 0, 0);
  ::_exit(sup.run());
}

}  // namespace

void container_main(const ChildPlan& plan) {
  if (Status s = setup(plan); !s.ok()) fail(plan, s.error());
  const policy::Policy& p = *plan.policy;
  if (p.process.model == policy::Model::kSystem && p.process.argv.empty()) supervise_services(plan);
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
  // The init keeps no descriptor of the launcher's (loop devices, state lock)
  // nor of the launcher's caller.
  if (Status s = close_all_above_stdio(); !s.ok()) ::_exit(126);
  // From here it only reaps and forwards signals, for the container's whole
  // life, inside its pid namespace: of the launcher's capabilities it keeps
  // CAP_KILL alone (the main process may run as another user), so none is
  // left within the container's reach should anything there get at pid 1.
  if (!drop_bounding(uint64_t{1} << CAP_KILL).ok() || !set_caps(uint64_t{1} << CAP_KILL).ok() ||
      !set_no_new_privs().ok())
    ::_exit(126);
  ::prctl(PR_SET_NAME, "nestbox-init", 0, 0, 0);
  ::_exit(run_init(main));
}

}  // namespace nestbox::launcher
