#include "util/detached_mount.h"

#include <linux/mount.h>
#include <cerrno>
#include <sys/syscall.h>
#include <unistd.h>

namespace nestbox {

Result<DetachedMount> DetachedMount::create(const char* fstype) {
#if !defined(SYS_fsopen) || !defined(SYS_fsconfig) || !defined(SYS_fsmount)
  return sys_error(std::string("fsopen ") + fstype, ENOSYS);  // headers older than the mount API
#else
  UniqueFd fs(static_cast<int>(::syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC)));
  if (!fs) return sys_error(std::string("fsopen ") + fstype);
  if (::syscall(SYS_fsconfig, fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return sys_error(std::string("fsconfig create ") + fstype);
  UniqueFd mnt(static_cast<int>(::syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC,
                                          MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)));
  if (!mnt) return sys_error(std::string("fsmount ") + fstype);
  return DetachedMount(std::move(mnt));
#endif
}

}  // namespace nestbox
