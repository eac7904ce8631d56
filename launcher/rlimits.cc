#include <sys/resource.h>

#include "launcher/privileges.h"

namespace nestbox::launcher {

Status apply_rlimits(const std::vector<policy::Rlimit>& limits) {
  for (const policy::Rlimit& r : limits) {
    if (r.resource >= RLIM_NLIMITS) return bad_input("rlimit " + std::to_string(r.resource) + ": unknown resource");
    rlimit l{static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
#ifdef __GLIBC__
    auto resource = static_cast<__rlimit_resource>(r.resource);  // glibc's C++ prototype
#else
    int resource = static_cast<int>(r.resource);  // musl (OpenWrt)
#endif
    if (::setrlimit(resource, &l) != 0)
      return sys_error("setrlimit " + std::to_string(r.resource));
  }
  return {};
}

}  // namespace nestbox::launcher
