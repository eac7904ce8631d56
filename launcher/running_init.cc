#include "launcher/running_init.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "launcher/namespaces.h"
#include "launcher/state.h"
#include "util/file_io.h"

namespace nestbox::launcher {
namespace {

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

bool still_alive(const UniqueFd& pidfd) {
  return ::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) == 0;
}

}  // namespace

UniqueFd pin_process(pid_t pid) { return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

Status signal_pinned(const UniqueFd& pidfd, int signal, int value) {
  siginfo_t info{};
  info.si_signo = signal;
  info.si_code = SI_QUEUE;
  info.si_pid = ::getpid();
  info.si_uid = ::getuid();
  info.si_value.sival_int = value;
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, &info, 0) != 0) return sys_error("pidfd_send_signal");
  return {};
}

Result<std::string> process_start_time(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  auto stat = read_file(path);
  if (!stat.ok()) return std::move(stat).error();
  // The command name (field 2) may hold spaces and ')': fields 3.. follow its last ')'.
  size_t at = stat->rfind(')');
  if (at == std::string::npos) return failure(path + ": no command name");
  const char* p = stat->c_str() + at + 1;
  for (int field = 3; field < 22; ++field) {
    while (*p == ' ') ++p;
    while (*p && *p != ' ') ++p;
  }
  while (*p == ' ') ++p;
  const char* end = p;
  while (*end >= '0' && *end <= '9') ++end;
  if (end == p) return failure(path + ": no start time");
  return std::string(p, end);
}

Result<std::vector<UniqueFd>> open_running_namespaces(const std::string& state_root,
                                                      const std::string& name,
                                                      const bool (&wanted)[policy::kNsCount]) {
  NESTBOX_TRY(check_name(name));
  std::string dir = state_root + "/" + name;
  if (!is_running(dir)) return failure("container '" + name + "' is not running");
  auto init_text = read_file(dir + "/init");
  auto start_text = read_file(dir + "/init_start");
  if (!init_text.ok() || !start_text.ok())
    return failure("container '" + name + "' is starting or stopping (no init recorded)");
  char* end = nullptr;
  long init = std::strtol(init_text->c_str(), &end, 10);
  if (init <= 1 || *end != '\n') return failure(dir + "/init: not a pid");
  std::string recorded(*start_text);
  while (!recorded.empty() && recorded.back() == '\n') recorded.pop_back();
  auto same_process = [&]() {
    auto now = process_start_time(static_cast<pid_t>(init));
    return now.ok() && *now == recorded;
  };
  std::string gone = "container '" + name + "': its init (pid " + std::to_string(init) + ") has exited";

  // Before 5.3 there is no pidfd: the start time is then compared again
  // after the opens (a reused pid within the same clock tick is out of reach).
  UniqueFd pidfd = pin_process(static_cast<pid_t>(init));
  if (!pidfd && errno != ENOSYS) return failure(gone);
  if (!same_process()) return failure(gone);
  std::vector<UniqueFd> fds(policy::kNsCount);
  for (int i = 0; i < policy::kNsCount; ++i) {
    if (!wanted[i]) continue;
    // The pid namespace the container's processes are in is the one the
    // init's *children* get: an init that joined another container's pid
    // namespace (setns affects only its children) is itself still in the
    // host's, and ns/pid named that one: `exec` and health checks then ran
    // in the host's pid namespace, where a uid-0 container process could
    // kill every root process of the host (and a container joining this one
    // joined the host's).
    const char* entry = i == policy::kNsPid ? "pid_for_children" : ns_name(i);
    std::string path = "/proc/" + std::to_string(init) + "/ns/" + entry;
    fds[i].reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fds[i] && errno == ENOENT && i == policy::kNsPid && ::access(("/proc/" + std::to_string(init)).c_str(), F_OK) == 0)
      return failure("container '" + name + "': " + path +
                     " is missing (Linux 4.12+): which pid namespace its processes are in is unknown");
    if (!fds[i]) return failure(gone);
  }
  if (pidfd ? !still_alive(pidfd) : !same_process()) return failure(gone);
  return fds;
}

}  // namespace nestbox::launcher
