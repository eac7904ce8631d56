#include "util/shown.h"

#include <cstdio>

namespace nestbox {

std::string shown(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && !(keep_newlines && c == '\n')) || b == 0x7f) {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\x%02x", b);
      out += esc;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace nestbox
