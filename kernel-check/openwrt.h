// What an OpenWrt build must contain for these containers: the kernel module
// packages (kmod-*) and the buildroot's KERNEL_* options, derived from the
// features the manifests require and kernel-check's one table (features.h:
// Facility::openwrt_kmod and Facility::config). Host only. Used by
// `nestbox kernel-check --openwrt-packages/--openwrt-kconfig`, which the image
// recipe and the ImageBuilder glue (openwrt/) put into the image's packages.
#pragma once

#include <string>
#include <vector>

#include "kernel-check/report.h"

namespace nestbox::kernel_check {

struct OpenWrtNeeds {
  // Sorted, each once: "kmod-loop", "kmod-veth", ...
  std::vector<std::string> packages;
  // Sorted, each once, without CONFIG_: "KERNEL_USER_NS", ... One per clause
  // of the config expression of every required feature OpenWrt has no kmod
  // for (its first alternative), plus the option whose block it sits in
  // (KERNEL_NAMESPACES for KERNEL_USER_NS); clauses that newer kernels
  // satisfy by version (">=X.Y") and symbols config/Config-kernel.in has no
  // option for (PROC_FS, SQUASHFS_ZSTD, ...) are left out: kernel-check on the
  // built kernel's config decides those.
  std::vector<std::string> kernel_options;
};

OpenWrtNeeds openwrt_needs(const std::vector<ContainerNeeds>& containers);

}  // namespace nestbox::kernel_check
