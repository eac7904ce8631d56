// Hot-plugged block devices given to a running container ([[devices.hotplug]],
// policy::HotplugRule). The launcher, never the container, listens to the
// kernel's uevents (launcher/uevent_socket.h); each one about a block device
// only says "look again": the set of devices the container should have is
// always computed from sysfs (/sys/class/block, the host's), so a forged,
// lost or reordered message can neither give nor keep a device. A device is
// the container's when
//   - a rule matches it: its kernel name (glob), DEVTYPE, the kernel uevent
//     properties of its sysfs `uevent` file, a subsystem among its sysfs
//     ancestors (`parent = "usb"`); the first matching rule decides;
//   - it has media (size > 0: a detached loop device or an empty card
//     reader has none);
//   - the host does not use it (an O_EXCL open succeeds: not mounted, not
//     held by dm/md, not the loop device under any container's image).
// Given: a node <dir>/<name> in the container's /dev tmpfs (mknodat through
// the directory fd the container's setup handed over before any of its code
// ran, one component, never a path; owner and mode of the rule), then the
// device's major:minor alone in the device cgroup (v1 devices.allow and the
// v2 program, replaced: launcher/devices.h), read or read-write, never mknod.
// Taken back (gone, no media, in use, no longer matching, major:minor
// changed): access revoked first, then the node removed if it is still ours.
// A revoke that fails is fatal: the caller stops the container.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "launcher/devices.h"
#include "launcher/uevent_socket.h"
#include "policy/policy.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

// What a rule sees of one device.
struct BlockDevice {
  std::string name;                 // kernel name (DEVNAME)
  UeventVars vars;                  // its sysfs uevent file, plus SUBSYSTEM=block
  std::vector<std::string> parents; // subsystems of its sysfs ancestors, nearest first
};

// Does `rule` match `dev`? (fnmatch(3) for the name and the values)
bool hotplug_matches(const policy::HotplugRule& rule, const BlockDevice& dev);

class Hotplug {
 public:
  // `dev_fd`: the container's /dev tmpfs (checked here). Opens the uevent
  // socket, then gives every matching device present (coldplug).
  static Result<Hotplug> start(const policy::Policy& policy, DeviceAccess access, UniqueFd dev_fd);
  Hotplug(Hotplug&&) = default;

  int fd() const { return socket_.fd(); }
  // Reads what is pending; looks again when a block device changed.
  Status on_readable();
  // Recomputes the container's devices from sysfs and applies the difference.
  Status reconcile();

 private:
  struct Given {
    dev_t dev;
    size_t rule;
  };
  Hotplug(const policy::Policy& p, DeviceAccess access, UeventSocket socket)
      : policy_(&p), access_(std::move(access)), socket_(std::move(socket)) {}
  // `fatal`: set when access may be left behind (the container must stop).
  Status give(const std::string& name, dev_t dev, size_t rule, bool& fatal);
  Status take_back(const std::string& name, const Given& g);

  const policy::Policy* policy_;
  DeviceAccess access_;
  UeventSocket socket_;
  std::vector<UniqueFd> dirs_;  // per rule: its directory in the /dev tmpfs
  std::map<std::string, Given> given_;
};

}  // namespace nestbox::launcher
