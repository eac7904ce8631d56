// run_container(): the launcher side of a launch (see launcher.h for the order).
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <optional>

#include "launcher/cgroups.h"
#include "launcher/child.h"
#include "launcher/devices.h"
#include "launcher/features.h"
#include "launcher/hotplug.h"
#include "launcher/launcher.h"
#include "launcher/shared_base.h"
#include "launcher/image_device.h"
#include "launcher/namespaces.h"
#include "launcher/signal_block.h"
#include "launcher/ubus_identity.h"
#include "launcher/privileges.h"
#include "launcher/process.h"
#include "launcher/running_init.h"
#include "launcher/service_board.h"
#include "launcher/state.h"
#include "launcher/sync.h"

namespace nestbox::launcher {
namespace {

// Kills and reaps the container's first process unless it was reaped already.
class ChildOwner {
 public:
  explicit ChildOwner(pid_t pid) : pid_(pid) {}
  ChildOwner(const ChildOwner&) = delete;
  ~ChildOwner() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_t pid() const { return pid_; }
  void reaped() { pid_ = -1; }

 private:
  pid_t pid_;
};

// Calls Options::network_teardown when armed (the network was set up). Lives
// between the cgroup/state (released after it) and the child (killed before).
class NetworkTeardown {
 public:
  explicit NetworkTeardown(const Options& o) : o_(o) {}
  NetworkTeardown(const NetworkTeardown&) = delete;
  ~NetworkTeardown() {
    if (armed_ && o_.network_teardown) o_.network_teardown();
  }
  void arm() { armed_ = true; }

 private:
  const Options& o_;
  bool armed_ = false;
};

pid_t clone_child(int flags) {
  clone_args args;
  std::memset(&args, 0, sizeof args);
  args.flags = static_cast<uint64_t>(flags);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == ENOSYS)  // before 5.3; x86/arm argument order
    pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  return static_cast<pid_t>(pid);
}

int64_t now_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Drives the setup conversation until the container runs (EOF) or fails.
// The device allow-list is a required step: a container that reaches exec
// without asking for it is refused.
// With hot-plug rules the allow-list stays changeable (DeviceAccess) and the
// devices present are given before the container runs (`hotplug`).
//
// Bounded: past `timeout_ms` (Options::setup_timeout_ms) the launch fails and
// the child is killed. The container's processes can stop or stall the
// setup's (a main process in a joined pid namespace, SIGSTOPped by that
// container before its exec, held the channel open), and a launcher must not
// wait for them without end. A SIGTERM/SIGINT/SIGHUP (`stop`) during the
// setup shortens that to the stop timeout (or the one queued with it) and is
// handed to supervise() through `stop_wait` (-1: none): the container is
// stopped gracefully as soon as it runs.
Status converse(int fd, int signals, const Options& o, int64_t* stop_wait, pid_t child,
                const policy::Policy& p, const Cgroup& cg, std::optional<Hotplug>& hotplug) {
  bool restricted = false;
  int64_t deadline = now_ms() + o.setup_timeout_ms;
  while (true) {
    pollfd pfds[2] = {{fd, POLLIN, 0}, {signals, POLLIN, 0}};
    int ready = ::poll(pfds, 2, static_cast<int>(std::max<int64_t>(0, deadline - now_ms())));
    if (ready < 0 && errno != EINTR) return sys_error("poll");
    signalfd_siginfo info;
    while (::read(signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      int sig = static_cast<int>(info.ssi_signo);
      if ((sig != SIGTERM && sig != SIGINT && sig != SIGHUP) || *stop_wait >= 0) continue;
      bool queued = info.ssi_code == SI_QUEUE && info.ssi_int >= 0;  // as in supervise()
      *stop_wait = queued ? info.ssi_int : o.stop_timeout_ms;
      deadline = std::min(deadline, now_ms() + *stop_wait);
    }
    if (ready <= 0 || !(pfds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (now_ms() < deadline) continue;
      if (*stop_wait >= 0)
        return failure("stopped during its setup, which did not finish within the stop timeout (" +
                       std::to_string(*stop_wait) + " ms): killed");
      return failure("its setup did not finish within " + std::to_string(o.setup_timeout_ms) +
                     " ms (a process of it was stopped or stalled before its exec): killed");
    }
    UniqueFd passed;
    auto msg = sync_recv(fd, &passed);
    if (!msg.ok()) return std::move(msg).error();
    if (msg->empty()) {
      if (!restricted) return failure("container went away before its device allow-list");
      return {};
    }
    if ((*msg)[0] == kSyncError) return failure(msg->substr(1));
    if ((*msg)[0] == kSyncDevices && !restricted) {
      std::vector<AttachedProgram> programs;
      NESTBOX_TRY(restrict_devices(cg, device_rules(p), p.hotplug.empty() ? nullptr : &programs));
      if (!p.hotplug.empty()) {
        auto h = Hotplug::start(p, DeviceAccess(cg, device_rules(p), std::move(programs)), std::move(passed));
        if (!h.ok()) return std::move(h).error();
        hotplug.emplace(std::move(*h));
      }
      restricted = true;
      NESTBOX_TRY(sync_send(fd, kSyncRestricted));
      continue;
    }
    if ((*msg)[0] != kSyncUserns) return failure("unexpected setup message");
    NESTBOX_TRY_CTX(write_id_maps(child, p), "user namespace");
    NESTBOX_TRY(sync_send(fd, kSyncMapped));
  }
}

// Reads what nestbox's init reported (service states, a failure) and keeps
// <state>/services in step. Non-blocking: reads what is there.
void read_reports(int fd, ServiceBoard& board, const StateDir& state) {
  if (fd < 0) return;
  char buf[4096];
  bool changed = false;
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) changed |= board.feed(buf, static_cast<size_t>(n));
  if (changed) (void)state.write("services", board.render());
}

// How long after a SIGKILL sweep of the cgroup the next one comes while the
// container's first process is not yet reaped.
constexpr int64_t kKillAgainMs = 1000;

// Waits for the container's end, turning SIGTERM/SIGINT/SIGHUP into a
// graceful stop: forward SIGTERM, then after the timeout kill the cgroup.
// Signals come through a signalfd (still blocked: nothing is lost or run in a
// handler) so that the init's reports can be read in the same loop.
// `stop_wait` >= 0: a stop arrived during the setup (converse()), with that timeout.
Result<RunResult> supervise(ChildOwner& child, const Cgroup& cg, const UniqueFd& signals,
                            const Options& o, int64_t stop_wait, int report_fd, ServiceBoard& board,
                            const StateDir& state, std::optional<Hotplug>& hotplug) {
  RunResult result;
  int64_t deadline = -1;
  if (stop_wait >= 0) {
    result.stopped = true;
    ::kill(child.pid(), SIGTERM);
    deadline = now_ms() + stop_wait;
  }
  while (true) {
    int status = 0;
    if (::waitpid(child.pid(), &status, WNOHANG) == child.pid()) {
      child.reaped();
      read_reports(report_fd, board, state);
      result.exit_code = exit_code(status);
      if (result.exit_code > 128 && result.exit_code < 128 + NSIG) result.signal = result.exit_code - 128;
      if (result.failure.empty()) result.failure = board.failure();
      return result;
    }
    pollfd pfds[3] = {{signals.get(), POLLIN, 0}, {report_fd, POLLIN, 0}, {hotplug ? hotplug->fd() : -1, POLLIN, 0}};
    int timeout = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int ready = ::poll(pfds, 3, timeout);  // negative fds are skipped
    if (ready < 0 && errno != EINTR) return sys_error("poll");
    if (hotplug && (pfds[2].revents & POLLIN)) {
      if (Status s = hotplug->on_readable(); !s.ok() && !result.killed_after_timeout) {
        // A device the container may still reach after it went: stop it now.
        std::fprintf(stderr, "nestbox-launch: hotplug: %s: stopping the container\n", s.error().message.c_str());
        if (result.failure.empty()) result.failure = "hotplug: " + s.error().message;
        result.killed_after_timeout = true;
        cg.kill_all();
        ::kill(child.pid(), SIGKILL);
        deadline = now_ms() + kKillAgainMs;
        hotplug.reset();
      }
    }
    if (report_fd >= 0 && (pfds[1].revents & (POLLIN | POLLHUP))) {
      read_reports(report_fd, board, state);
      if (pfds[1].revents & POLLHUP) report_fd = -1;  // the init is gone; waitpid follows
    }
    signalfd_siginfo info;
    while (::read(signals.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      int sig = static_cast<int>(info.ssi_signo);
      if (sig != SIGTERM && sig != SIGINT && sig != SIGHUP) continue;
      // `stop --stop-timeout MS` queues its timeout with the signal; it
      // replaces this launcher's own, or shortens a stop already under way.
      int64_t wait = o.stop_timeout_ms;
      bool queued = info.ssi_code == SI_QUEUE && info.ssi_int >= 0;  // -1: no timeout given
      if (queued) wait = info.ssi_int;
      if (deadline < 0) {
        result.stopped = true;
        ::kill(child.pid(), SIGTERM);  // the container's init forwards it
        deadline = now_ms() + wait;
      } else if (queued) {
        deadline = std::min(deadline, now_ms() + wait);
      }
    }
    if (deadline >= 0 && now_ms() >= deadline) {
      // The processes did not end on SIGTERM; or, after SIGKILL, some are
      // still there (one forked while the cgroup was listed, or stuck in the
      // kernel): sweep again, never spin on a deadline already passed.
      result.killed_after_timeout = true;
      cg.kill_all();
      ::kill(child.pid(), SIGKILL);
      deadline = now_ms() + kKillAgainMs;
    }
  }
}

}  // namespace

Result<RunResult> run_container(const policy::Policy& p, const RootfsSource& src,
                                const Options& o) {
  // 1. Refusals: nothing exists yet.
  NESTBOX_TRY(check_policy(p));
  if (o.preflight) NESTBOX_TRY(o.preflight(p));
  if (p.net == policy::NetMode::kInterfaces && !o.network_setup)
    return failure("policy " + p.name + " needs network interfaces, but this launcher has no network setup");
  NESTBOX_TRY(check_kernel(p, src));
  if (!p.ipc.ubus_socket.empty()) NESTBOX_TRY(check_ubus_identity(p));
  // Decided from the host's view: inside, /sys may be absent or hide the LSM.
  NESTBOX_TRY(check_lsm_available(p.apparmor_profile, p.selinux_context));
  auto joins = open_joins(p, o.state_root);
  if (!joins.ok()) return std::move(joins).error();
  // Its capabilities reach the joined namespace: a filter installed inside it
  // for the container that owns it must not be within their reach.
  constexpr uint64_t kNetCaps = (1ull << CAP_NET_ADMIN) | (1ull << CAP_NET_RAW);
  if ((*joins)[policy::kNsNet] && (p.caps.keep & kNetCaps)) {
    if (!o.network_join_check)
      return failure("policy " + p.name + " joins a network namespace keeping CAP_NET_ADMIN or CAP_NET_RAW, and this "
                     "launcher cannot check that namespace's filter");
    NESTBOX_TRY(o.network_join_check(p, (*joins)[policy::kNsNet].get()));
  }

  // 2. Resources owned here, released in reverse order on every path.
  auto state = StateDir::create(o.state_root, p.name);
  if (!state.ok()) return std::move(state).error();
  // Declared before the cgroup: a dm-verity device is removed after the
  // cgroup's processes (and with them the container's mounts) are gone.
  std::optional<ImageDevice> image;
  std::optional<SharedBase> base;
  auto cg = Cgroup::create(p.name, o.cgroup_parent, p.cgroups);
  if (!cg.ok()) return std::move(cg.error().context("cgroup"));
  if (src.kind != RootfsSource::Kind::kTree) {
    auto l = ImageDevice::attach(src.image, p.name, "rootfs", o.force_legacy_loop);
    if (!l.ok()) return std::move(l.error().context("rootfs image"));
    image.emplace(std::move(*l));
  }
  if (src.kind == RootfsSource::Kind::kOverlay) {
    auto b = SharedBase::acquire(o.state_root, p.base, src.base, o.force_legacy_loop);
    if (!b.ok()) return std::move(b.error().context("base " + p.base));
    base.emplace(std::move(*b));
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return sys_error("socketpair");
  UniqueFd ours(sv[0]), theirs(sv[1]);
  // nestbox's init reports its services' states here (supervisor.h).
  int rp[2];
  if (::pipe2(rp, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd reports(rp[0]), report_w(rp[1]);
  if (::fcntl(reports.get(), F_SETFL, O_NONBLOCK) != 0) return sys_error("nonblocking report pipe");

  ChildPlan plan;
  plan.policy = &p;
  plan.source = &src;
  plan.options = &o;
  plan.devices = {state->path(), state->path() + "/root", image ? image->node() : "",
                  base ? base->dir() : ""};
  plan.profile = profile_from(p);
  plan.cgroup = &cg.value();
  plan.wait_for_go = p.net == policy::NetMode::kInterfaces;
  plan.sync_fd = theirs.get();
  plan.report_fd = report_w.get();
  plan.joins = &joins.value();

  // From here on SIGTERM (`stop`) is handled by converse() and supervise(), never fatal.
  SignalBlock block(SignalBlock::Pending::kDrop);
  // What stop/status/exec need, known before the container exists.
  NESTBOX_TRY(state->write("pid", std::to_string(::getpid()) + "\n"));
  NESTBOX_TRY(state->write("cgroups", cg->describe()));
  NESTBOX_TRY(state->write("freezer", p.cgroups.freezer ? "1\n" : "0\n"));
  NESTBOX_TRY(state->write("exec", serialize(plan.profile)));

  // 3. The container's first process, in its new namespaces.
  NetworkTeardown network(o);
  pid_t pid = clone_child(clone_flags(p));
  if (pid < 0) return sys_error("clone");
  if (pid == 0) {
    ours.reset();
    ::sigprocmask(SIG_SETMASK, &block.old(), nullptr);
    container_main(plan);
  }
  ChildOwner child(pid);
  theirs.reset();
  report_w.reset();
  // What arrived since the block is still pending: read from here on.
  UniqueFd signals(::signalfd(-1, &block.set(), SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals) return sys_error("signalfd");
  if (plan.wait_for_go) {
    NESTBOX_TRY_CTX(o.network_setup(p, pid), "network");
    network.arm();
    NESTBOX_TRY(sync_send(ours.get(), kSyncGo));
  }
  std::optional<Hotplug> hotplug;
  int64_t stop_wait = -1;
  NESTBOX_TRY_CTX(converse(ours.get(), signals.get(), o, &stop_wait, pid, p, *cg, hotplug), "container " + p.name);
  // The mounts hold the loop devices now (autoclear), or the dm-verity
  // devices do (removed when image/base go, after the cgroup).
  if (image) image->release_loop();

  // 4. Running: the init pid and namespace links complete the state, then supervise.
  auto started = process_start_time(pid);
  if (!started.ok()) return std::move(started).error();
  NESTBOX_TRY(state->write("init_start", *started + "\n"));
  NESTBOX_TRY(state->write("init", std::to_string(pid) + "\n"));
  NESTBOX_TRY(state->link_namespaces(pid));
  ServiceBoard board(p);
  if (!p.process.services.empty()) NESTBOX_TRY(state->write("services", board.render()));
  auto result = supervise(child, *cg, signals, o, stop_wait, reports.get(), board, *state, hotplug);
  if (!result.ok()) return result;
  result->oom_killed = cg->oom_killed();
  result->verity_corrupted = (image && image->corrupted()) || (base && base->corrupted());
  return result;
}

}  // namespace nestbox::launcher
