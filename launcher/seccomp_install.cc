// Loads the policy's precompiled classic BPF (no libseccomp on the target).
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "launcher/privileges.h"

namespace nestbox::launcher {

Status install_seccomp(const std::vector<uint8_t>& bpf) {
  if (bpf.empty()) return {};
  static_assert(sizeof(sock_filter) == 8, "classic BPF instructions are 8 bytes");
  if (bpf.size() % sizeof(sock_filter) != 0)
    return bad_input("seccomp program is " + std::to_string(bpf.size()) +
                     " bytes, not a multiple of 8");
  size_t count = bpf.size() / sizeof(sock_filter);
  if (count > BPF_MAXINSNS)
    return bad_input("seccomp program has " + std::to_string(count) + " instructions, limit " +
                     std::to_string(BPF_MAXINSNS));
  std::vector<sock_filter> insns(count);
  std::memcpy(insns.data(), bpf.data(), bpf.size());
  sock_fprog prog{static_cast<unsigned short>(count), insns.data()};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
    return sys_error("load seccomp filter");
  return {};
}

}  // namespace nestbox::launcher
