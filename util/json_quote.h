// JSON string literals for the hand-written `--json` outputs of the target
// binaries (no JSON library on the device) and the few host reports that
// share their format. Target-safe: libc only.
#pragma once

#include <string>
#include <string_view>

namespace nestbox {

// Appends `s` as a quoted JSON string: '"' and '\\' escaped, control
// characters as \n, \t, \r or \u00XX; other bytes as they are.
void append_json_string(std::string* out, std::string_view s);

// `s` as a quoted JSON string.
std::string json_string(std::string_view s);

}  // namespace nestbox
