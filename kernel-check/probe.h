// nestbox-launch check: which container facilities does the RUNNING kernel
// have? Target-safe (libc only). Probes /proc/self/ns/*, /proc/filesystems,
// /proc/cgroups and the cgroup v2 mount, seccomp via prctl/seccomp(2),
// /proc/sys/user/max_user_namespaces, /dev/loop-control, /sys/module and the
// module lists under /lib/modules/<release>. Squashfs compressors are not
// visible on a running kernel; they are read from /boot/config-<release> when
// that plain-text file exists, else from the squashfs decompressors' symbols in
// /proc/kallsyms, else reported as unknown.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-check/report.h"

namespace nestbox::kernel_check {

struct ProbeOptions {
  std::string root = "";  // prefix for /proc, /sys, /dev, /lib, /boot (tests); "" = "/"
  // Features to probe (bit n = Feature n); the others are reported unknown
  // ("not probed"). The rtnetlink probe (a throwaway network namespace, tens
  // of ms) runs only when a link-kind feature is asked for.
  uint64_t features = ~uint64_t{0};
};

// One status per Feature (kFeatures order); version from uname -r.
Report probe_running_kernel(const ProbeOptions& options = {});

// The Features in `mask` the report cannot confirm (not available/module),
// for refusing a policy whose required_features this kernel lacks.
std::vector<Feature> unmet_features(const Report& report, uint64_t mask);

// `nestbox-launch check [--json] [--require MASK|NAME,...]`: prints the
// report; with --require exits 1 when a required feature is not enforceable.
// argv[0] is "check". Exit 2 on bad arguments.
int run_check_command(int argc, char** argv);

}  // namespace nestbox::kernel_check
