// What every runtime form hides or freezes below /proc, one list for
// nestbox-launch (launcher/mounts.cc), the OCI bundle (policy/oci.cc) and the
// LXC config (policy/lxc.cc), so the three cannot drift apart: a path masked
// by the launcher but missing from config.json was readable under crun and
// runc (/proc/kpageflags and /proc/kpagecount: the host's physical page
// flags and counts, to the container's root).
#pragma once

namespace nestbox::policy {

// Files covered with the host's /dev/null (bound read-only): kernel memory,
// physical page maps, keys and scheduler/timer internals.
inline constexpr const char* kProcMaskedFiles[] = {
    "/proc/kcore",      "/proc/keys",      "/proc/timer_list",   "/proc/timer_stats", "/proc/kallsyms",
    "/proc/kpageflags", "/proc/kpagecount", "/proc/kpagecgroup", "/proc/latency_stats", "/proc/sched_debug"};

// Kernel knobs bound read-only (root without capabilities could still write
// some as their owner, e.g. /proc/irq/*/smp_affinity).
inline constexpr const char* kProcReadonlyPaths[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus",
                                                     "/proc/fs"};

}  // namespace nestbox::policy
