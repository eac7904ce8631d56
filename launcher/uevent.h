// Kernel uevents (NETLINK_KOBJECT_UEVENT) and sysfs uevent files, parsed
// strictly: any local process may send to the uevent group on some kernels,
// so these are bytes to check, never to trust. A kernel message is
//   "ACTION@DEVPATH\0KEY=VALUE\0...KEY=VALUE\0"
// (lib/kobject_uevent.c); a sysfs `uevent` file holds "KEY=VALUE\n" lines.
// Pure functions, target-safe (libc only); fuzzed by tests/launcher/fuzz_uevent.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace nestbox::launcher {

inline constexpr size_t kMaxUeventSize = 8192;  // the kernel's UEVENT_BUFFER_SIZE is 2048
inline constexpr size_t kMaxUeventVars = 64;    // UEVENT_NUM_ENVP

using UeventVars = std::vector<std::pair<std::string, std::string>>;

struct Uevent {
  std::string action;     // add, remove, change, move, online, offline, bind, unbind
  std::string devpath;    // "/devices/virtual/block/loop0"
  std::string subsystem;  // "block"
  UeventVars vars;        // every KEY=VALUE, in order (ACTION, DEVPATH, SUBSYSTEM included)
};

// Kernel message: the header and ACTION/DEVPATH agree, SUBSYSTEM present,
// keys [A-Z0-9_]+ each once, values printable, every record NUL-terminated.
Result<Uevent> parse_uevent(std::span<const uint8_t> message);
// A sysfs uevent file: the same rules for its lines.
Result<UeventVars> parse_uevent_file(std::string_view text);
// The value of `key`, or nullptr.
const std::string* uevent_var(const UeventVars& vars, std::string_view key);

}  // namespace nestbox::launcher
