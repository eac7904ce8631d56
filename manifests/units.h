// Strict parsers for the value syntaxes manifests use, and the name tables
// they are checked against. Each parser returns nullopt on anything it does
// not fully understand; the caller words the error.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "manifests/model.h"

namespace nestbox::manifests {

// "512M", "64K", "1G", "4096" -> bytes (binary multiples; K M G T).
std::optional<uint64_t> parse_size(std::string_view text);
// "100ms", "20us", "1s" -> microseconds.
std::optional<uint64_t> parse_duration_us(std::string_view text);
// "0755", "1777", "644" -> mode bits (<= 07777).
std::optional<uint32_t> parse_mode(std::string_view text);
// "4.15", "5.10.3" -> version.
std::optional<KernelVersion> parse_kernel_version(std::string_view text);

// Capability and rlimit names: policy/names.h (one table, shared with the
// target).

// errno names ("EPERM") -> value; also accepts a plain number 1..4095.
std::optional<int> errno_value(std::string_view name);
std::string errno_name(int value);

// The candidate closest to `word` by edit distance, if close enough to be a
// plausible typo; empty otherwise.
std::string did_you_mean(std::string_view word, std::span<const std::string> candidates);

}  // namespace nestbox::manifests
