#include "util/detached_mount.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "util/fd_passing.h"

namespace nestbox {
namespace {

// The mount API's flags (kernel ABI, include/uapi/linux/mount.h), here so
// that neither <linux/mount.h> (absent from older kernel headers, clashing
// with some libcs' <sys/mount.h>) nor a libc's wrappers are needed.
constexpr unsigned kFsopenCloexec = 0x1;
constexpr unsigned kFsconfigCmdCreate = 6;
constexpr unsigned kFsmountCloexec = 0x1;
constexpr unsigned kMountAttrNosuid = 0x2, kMountAttrNodev = 0x4, kMountAttrNoexec = 0x8;

}  // namespace

Result<DetachedMount> DetachedMount::create(const char* fstype) {
#if !defined(SYS_fsopen) || !defined(SYS_fsconfig) || !defined(SYS_fsmount)
  return in_private_namespace(fstype);  // headers older than the mount API
#else
  UniqueFd fs(static_cast<int>(::syscall(SYS_fsopen, fstype, kFsopenCloexec)));
  if (!fs && errno == ENOSYS) return in_private_namespace(fstype);
  if (!fs) return sys_error(std::string("fsopen ") + fstype);
  if (::syscall(SYS_fsconfig, fs.get(), kFsconfigCmdCreate, nullptr, nullptr, 0) != 0)
    return sys_error(std::string("fsconfig create ") + fstype);
  UniqueFd mnt(static_cast<int>(::syscall(SYS_fsmount, fs.get(), kFsmountCloexec,
                                          kMountAttrNosuid | kMountAttrNodev | kMountAttrNoexec)));
  if (!mnt) return sys_error(std::string("fsmount ") + fstype);
  return DetachedMount(std::move(mnt));
#endif
}

Result<DetachedMount> DetachedMount::in_private_namespace(const char* fstype) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return sys_error("socketpair");
  UniqueFd mine(pair[0]), theirs(pair[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    // Private first: the mount below must never propagate to the host.
    const char* on = "/sys/fs/cgroup";
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("none", on, fstype, MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      ::_exit(errno ? errno : 1);
    UniqueFd root(::open(on, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root || !send_fd(theirs.get(), 0, root.get()).ok()) ::_exit(errno ? errno : 1);
    ::_exit(0);
  }
  theirs.reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return sys_error(std::string("mount ") + fstype + " in a private mount namespace",
                     WIFEXITED(status) ? WEXITSTATUS(status) : EIO);
  UniqueFd root;
  auto got = receive_with_fd(mine.get(), &root);
  if (!got.ok() || !root) return sys_error(std::string("receive the private ") + fstype + " mount");
  return DetachedMount(std::move(root));
}

}  // namespace nestbox
