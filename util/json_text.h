// JSON text for host tools (nlohmann::json; never included by target code).
// Strings that come from the build's inputs (file names in a staging tree,
// archive member names) need not be UTF-8; nlohmann's dump() throws on them.
// Every JSON the host tools write goes through json_text(), which replaces
// each invalid byte with U+FFFD instead: output never aborts.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace nestbox {

// indent < 0: one line; else pretty-printed with `indent` spaces.
inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace nestbox
