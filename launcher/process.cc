#include "launcher/process.h"

#include <linux/keyctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "launcher/fds.h"
#include "launcher/privileges.h"

extern char** environ;

namespace nestbox::launcher {

namespace {

// The session keyring is inherited like a descriptor: possessing it gives
// the caller's keys to whoever runs, whatever its uid or user namespace. A new
// anonymous one (as runc does) before the ids change, charged to root's quota
// so a container user's full quota cannot refuse the start. A kernel without
// keys has nothing to inherit.
Status join_own_session_keyring() {
  if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) >= 0 || errno == ENOSYS) return {};
  return sys_error("join a session keyring of its own");
}

}  // namespace

Error become_and_exec(const ExecProfile& p, const std::vector<std::string>& argv) {
  if (argv.empty()) return bad_input("no command to run");
  ::umask(022);
  auto fail = [](Status s, const char* step) { return std::move(s.error().context(step)); };
  // Nothing the launcher or its caller had open survives the exec.
  if (Status s = cloexec_all_above_stdio(); !s.ok()) return fail(s, "close inherited descriptors");
  if (Status s = join_own_session_keyring(); !s.ok()) return fail(s, "keyring");
  if (Status s = apply_rlimits(p.rlimits); !s.ok()) return fail(s, "rlimits");
  if (Status s = apply_lsm_label(p.apparmor, p.selinux); !s.ok()) return fail(s, "LSM");
  if (Status s = drop_bounding(p.caps); !s.ok()) return fail(s, "capabilities");
  if (Status s = change_ids(p.uid, p.gid, p.groups); !s.ok()) return fail(s, "ids");
  if (::chdir(p.cwd.c_str()) != 0) return sys_error("chdir " + p.cwd);
  // Without no_new_privs the kernel loads a filter only with CAP_SYS_ADMIN:
  // load it while the permitted set still has it (it then covers capset/exec).
  bool early_seccomp = !p.no_new_privs && !p.seccomp.empty();
  if (early_seccomp) {
    if (Status s = raise_effective(); !s.ok()) return fail(s, "seccomp");
    if (Status s = install_seccomp(p.seccomp); !s.ok()) return fail(s, "seccomp");
  }
  if (Status s = set_caps(p.caps); !s.ok()) return fail(s, "capabilities");
  if (p.no_new_privs)
    if (Status s = set_no_new_privs(); !s.ok()) return fail(s, "no_new_privs");

  std::vector<char*> args, env;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : p.env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Seccomp last: nothing but execve runs under the filter.
  if (!early_seccomp)
    if (Status s = install_seccomp(p.seccomp); !s.ok()) return fail(s, "seccomp");
  environ = env.data();
  ::execvp(args[0], args.data());
  return sys_error("exec " + argv[0]);
}

sigset_t forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGCHLD})
    sigaddset(&set, sig);
  return set;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int run_init(pid_t main) {
  sigset_t set = forwarded_signals();
  while (true) {
    siginfo_t info;
    int sig = ::sigwaitinfo(&set, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      ::kill(main, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
      if (pid == main) return exit_code(status);  // the kernel kills the rest of the pid ns
  }
}

}  // namespace nestbox::launcher
