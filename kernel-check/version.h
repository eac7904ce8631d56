// Kernel version strings ("6.1.0-21-amd64", "4.14", "2.6.32.27") as Version
// values. Target-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kernel-check/features.h"

namespace nestbox::kernel_check {

// Parses MAJOR.MINOR[.PATCH] optionally followed by a suffix that starts with
// '-', '+', '.', '_' or '~' (distribution and local version). Nothing else.
std::optional<Version> parse_version(std::string_view text);

// "6.1.0"; "-" for {0,0,0} (a facility that is always there).
std::string to_string(const Version& v);

}  // namespace nestbox::kernel_check
