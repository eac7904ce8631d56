#include "kernel-check/features.h"

namespace nestbox::kernel_check {

const char* to_string(Category c) {
  switch (c) {
    case Category::kNamespaces: return "namespaces";
    case Category::kCgroups: return "cgroups";
    case Category::kCapabilities: return "capabilities";
    case Category::kMac: return "selinux/apparmor";
    case Category::kSeccomp: return "seccomp";
    case Category::kFilesystem: return "file system";
    case Category::kNetwork: return "network";
    case Category::kOther: return "other";
  }
  return "?";
}

}  // namespace nestbox::kernel_check
