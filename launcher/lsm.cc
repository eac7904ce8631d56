// AppArmor profile / SELinux label for the next exec, where the kernel has the
// LSM. Absent LSM: skipped (kernel-check reports it at build time).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "launcher/privileges.h"
#include "util/fd.h"
#include "util/file_io.h"

namespace nestbox::launcher {
namespace {

Status write_attr(const char* path, const std::string& value) {
  UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_error(std::string("open ") + path);
  return write_all(fd.get(), value.data(), value.size(), path);
}

bool apparmor_enabled() {
  auto r = read_file("/sys/module/apparmor/parameters/enabled");
  return r.ok() && !r->empty() && (*r)[0] == 'Y';
}

}  // namespace

Status apply_lsm_label(const std::string& apparmor, const std::string& selinux) {
  if (!apparmor.empty()) {
    if (!apparmor_enabled()) {
      std::fprintf(stderr, "nestbox-launch: AppArmor not enabled, profile '%s' not applied\n",
                   apparmor.c_str());
    } else {
      const char* attr = ::access("/proc/self/attr/apparmor/exec", F_OK) == 0
                             ? "/proc/self/attr/apparmor/exec"
                             : "/proc/self/attr/exec";
      NESTBOX_TRY_CTX(write_attr(attr, "exec " + apparmor), "AppArmor profile " + apparmor);
    }
  }
  if (!selinux.empty()) {
    if (::access("/sys/fs/selinux/enforce", F_OK) != 0) {
      std::fprintf(stderr, "nestbox-launch: SELinux not enabled, label '%s' not applied\n",
                   selinux.c_str());
    } else {
      NESTBOX_TRY_CTX(write_attr("/proc/self/attr/exec", selinux), "SELinux label " + selinux);
    }
  }
  return {};
}

}  // namespace nestbox::launcher
