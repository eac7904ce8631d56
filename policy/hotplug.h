// The text rules of a hot-plug rule ([[devices.hotplug]], policy section
// hotplug), shared by the manifest validator and the policy reader so the two
// decide from one definition. Target-safe (libc only). Each returns what is
// wrong, or nullptr.
#pragma once

#include <string_view>

namespace nestbox::policy {

// A kernel device name pattern: 1..64 bytes of [A-Za-z0-9._+:!-] and the
// fnmatch(3) characters * ? [ ]; never '/', "." or "..".
const char* hotplug_name_problem(std::string_view pattern);
// A kernel uevent key: 1..64 bytes of [A-Z0-9_]. The udev-only keys (ID_*,
// set by udev's rules, never by the kernel) are refused: nestbox reads what
// the kernel sends, and procd on OpenWrt has no udev.
const char* hotplug_key_problem(std::string_view key);
// A value pattern: 1..256 printable bytes (no control character).
const char* hotplug_value_problem(std::string_view value);
// A subsystem name ("usb", "mmc"): 1..32 bytes of [a-z0-9_-].
const char* hotplug_parent_problem(std::string_view subsystem);
// Where the nodes appear: "/dev" or a directory below it, each component of
// [A-Za-z0-9._-] and never "." or ".."; at most 4 components below /dev.
const char* hotplug_dir_problem(std::string_view dir);

}  // namespace nestbox::policy
