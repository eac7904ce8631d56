// SOURCE_DATE_EPOCH (reproducible-builds.org): the one parser. A front end
// reads it once and passes the value down; no library reads the environment,
// so every output of one run (mtimes, squashfs mkfs time, image creation
// time) agrees and a bad value is refused once, the same way everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "util/result.h"

namespace nestbox {

// The largest value every output can hold (squashfs keeps 32-bit times).
inline constexpr int64_t kMaxSourceDateEpoch = 0xFFFFFFFFll;

// nullopt when `value` is null or empty; a decimal number of seconds from 0
// to kMaxSourceDateEpoch otherwise; anything else (a sign, spaces, letters,
// too large) is bad input naming the value.
Result<std::optional<int64_t>> parse_source_date_epoch(const char* value);

// parse_source_date_epoch(getenv("SOURCE_DATE_EPOCH")).
Result<std::optional<int64_t>> source_date_epoch_from_env();

}  // namespace nestbox
