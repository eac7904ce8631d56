// AppArmor profile / SELinux label for the next exec. Fail closed: whether the
// kernel has the LSM is decided from the host's view, by the launcher before
// anything is created (the container's own /sys may be absent or hide
// selinuxfs), and a requested label that cannot be applied refuses the start.
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

// The kernel's list of active LSMs (securityfs), if mounted on the host.
bool listed(const std::string& root, const std::string& lsm, bool* known) {
  auto r = read_file(root + "/sys/kernel/security/lsm");
  *known = r.ok();
  if (!r.ok()) return false;
  std::string list = "," + *r;
  while (!list.empty() && (list.back() == '\n' || list.back() == '\0')) list.pop_back();
  return (list + ",").find("," + lsm + ",") != std::string::npos;
}

}  // namespace

bool apparmor_active(const std::string& root) {
  bool known = false;
  if (listed(root, "apparmor", &known)) return true;
  if (known) return false;
  auto r = read_file(root + "/sys/module/apparmor/parameters/enabled");
  return r.ok() && !r->empty() && (*r)[0] == 'Y';
}

bool selinux_active(const std::string& root) {
  bool known = false;
  if (listed(root, "selinux", &known)) return true;
  if (known) return false;
  return ::access((root + "/sys/fs/selinux/enforce").c_str(), F_OK) == 0;
}

Status check_lsm_available(const std::string& apparmor, const std::string& selinux) {
  if (!apparmor.empty() && !apparmor_active(""))
    return failure("AppArmor profile '" + apparmor +
                   "' requested, but AppArmor is not active in this kernel (CONFIG_SECURITY_APPARMOR)");
  if (!selinux.empty() && !selinux_active(""))
    return failure("SELinux context '" + selinux +
                   "' requested, but SELinux is not active in this kernel (CONFIG_SECURITY_SELINUX)");
  return {};
}

Status apply_lsm_label(const std::string& apparmor, const std::string& selinux) {
  // Availability was checked on the host (check_lsm_available); here, inside
  // the container, every failure to write the label refuses the exec — also
  // a container without /proc, where the label cannot be set at all.
  if (!apparmor.empty()) {
    const char* attr = ::access("/proc/self/attr/apparmor/exec", F_OK) == 0
                           ? "/proc/self/attr/apparmor/exec"
                           : "/proc/self/attr/exec";
    NESTBOX_TRY_CTX(write_attr(attr, "exec " + apparmor), "AppArmor profile " + apparmor);
  }
  if (!selinux.empty())
    NESTBOX_TRY_CTX(write_attr("/proc/self/attr/exec", selinux), "SELinux label " + selinux);
  return {};
}

}  // namespace nestbox::launcher
