#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "launcher/privileges.h"
#include "util/file_io.h"

namespace nestbox::launcher {
namespace {

int last_cap() {
  static int last = [] {
    auto r = read_file("/proc/sys/kernel/cap_last_cap");
    return r.ok() ? std::atoi(r->c_str()) : CAP_LAST_CAP;
  }();
  return last;
}

bool kept(uint64_t keep, int cap) { return cap < 64 && (keep >> cap) & 1; }

Status capset3(uint64_t permitted, uint64_t effective, uint64_t inheritable) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  for (int i = 0; i < 2; ++i) {
    data[i].permitted = static_cast<uint32_t>(permitted >> (32 * i));
    data[i].effective = static_cast<uint32_t>(effective >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(inheritable >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) != 0) return sys_error("capset");
  return {};
}

}  // namespace

Status drop_bounding(uint64_t keep) {
  for (int cap = 0; cap <= last_cap(); ++cap)
    if (!kept(keep, cap) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      return sys_error("drop capability " + std::to_string(cap) + " from the bounding set");
  return {};
}

Status change_ids(uint32_t uid, uint32_t gid, const std::vector<uint32_t>& groups) {
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return sys_error("PR_SET_KEEPCAPS");
  std::vector<gid_t> g(groups.begin(), groups.end());
  if (::setgroups(g.size(), g.data()) != 0) return sys_error("setgroups");
  if (::setresgid(gid, gid, gid) != 0) return sys_error("setresgid to " + std::to_string(gid));
  if (::setresuid(uid, uid, uid) != 0) return sys_error("setresuid to " + std::to_string(uid));
  return {};
}

Result<uint64_t> permitted_caps() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  if (::syscall(SYS_capget, &header, data) != 0) return sys_error("capget");
  return data[0].permitted | uint64_t(data[1].permitted) << 32;
}

Status raise_effective() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  if (::syscall(SYS_capget, &header, data) != 0) return sys_error("capget");
  uint64_t p = data[0].permitted | uint64_t(data[1].permitted) << 32;
  uint64_t i = data[0].inheritable | uint64_t(data[1].inheritable) << 32;
  return capset3(p, p, i);
}

Status set_caps(uint64_t keep) {
  uint64_t mask = 0;
  for (int cap = 0; cap <= last_cap(); ++cap)
    if (kept(keep, cap)) mask |= uint64_t(1) << cap;
  NESTBOX_TRY(capset3(mask, mask, mask));
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
    return sys_error("clear ambient capabilities");
  for (int cap = 0; cap <= last_cap(); ++cap)
    if (kept(mask, cap) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
      return sys_error("raise ambient capability " + std::to_string(cap));
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return sys_error("PR_SET_KEEPCAPS 0");
  return {};
}

Status set_no_new_privs() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sys_error("PR_SET_NO_NEW_PRIVS");
  return {};
}

}  // namespace nestbox::launcher
