// Untrusted text (a manifest key, an archive member's name, a file name) as
// it may appear in a message: every control byte written as \xNN. Errors are
// one line each on stderr, read by people and CI log parsers; a newline in a
// member name forged a line of its own ("nestbox compose: ... ok"), an ESC
// drove the terminal, a NUL cut the line for C tools.
#pragma once

#include <string>
#include <string_view>

namespace nestbox {

// `keep_newlines`: '\n' stays (a message of several lines, each made safe
// before they were joined); every other control byte is escaped.
std::string shown(std::string_view text, bool keep_newlines = false);

}  // namespace nestbox
