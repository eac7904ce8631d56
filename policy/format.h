// The baked policy's binary form (layout: policy/wire.h; prose:
// docs/policy-format.md). Target-safe (libc only): nestbox-launch links the
// reader; the host writes with encode().
//
// decode() trusts nothing: every length, count, enum, flag and string is
// checked, and the first problem is reported as
//   "policy: offset 123: process.argv[2]: string contains NUL"
// (ErrorKind::kBadInput). encode() checks its own output with decode(), so a
// blob it returns always loads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::policy {

Result<std::vector<uint8_t>> encode(const Policy& policy);

Result<Policy> decode(std::span<const uint8_t> blob);

}  // namespace nestbox::policy
