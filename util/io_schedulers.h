// Which I/O scheduler each disk uses. Whether a cgroup I/O weight is enforced
// depends on it at run time, not only on the kernel config: cgroup v1 weights
// (blkio.bfq.weight) and v2 io.bfq.weight act only on disks scheduled by bfq;
// v2 io.weight (iocost) acts on any disk. Target-safe (libc only).
#pragma once

#include <string>
#include <vector>

namespace nestbox {

struct DiskScheduler {
  std::string disk;    // "vda"
  std::string active;  // "mq-deadline", the bracketed one
  std::string offered;  // the whole line: "none [mq-deadline] kyber"
};

// Disks under `sys_block` (normally /sys/block) that are backed by a device
// (a `device` link): loop, zram, ram and dm devices pass their I/O on to a
// real disk, whose scheduler is the one that counts.
std::vector<DiskScheduler> disk_schedulers(const std::string& sys_block = "/sys/block");

// "vda: mq-deadline, sda: bfq", or "no disks in /sys/block".
std::string describe(const std::vector<DiskScheduler>& disks);

bool any_disk_uses(const std::vector<DiskScheduler>& disks, const std::string& scheduler);
bool any_disk_offers(const std::vector<DiskScheduler>& disks, const std::string& scheduler);

}  // namespace nestbox
