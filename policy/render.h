// Human and machine renderings of a baked Policy, as `nestbox inspect` prints
// them. Host only (JSON via nlohmann-json).
#pragma once

#include <string>

#include "policy/policy.h"

namespace nestbox::policy {

std::string to_text(const Policy& p);  // "key = value" lines, one per field
std::string to_json(const Policy& p);  // pretty-printed, stable key order

}  // namespace nestbox::policy
