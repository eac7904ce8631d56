#include "kernel-check/version.h"

namespace nestbox::kernel_check {

namespace {

// Reads 1..5 decimal digits at text[*pos]; false if there are none or too many.
bool read_number(std::string_view text, size_t* pos, int* out) {
  size_t start = *pos;
  int value = 0;
  while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9') {
    if (*pos - start >= 5) return false;
    value = value * 10 + (text[*pos] - '0');
    ++*pos;
  }
  if (*pos == start) return false;
  *out = value;
  return true;
}

bool is_suffix_start(char c) { return c == '-' || c == '+' || c == '.' || c == '_' || c == '~'; }

}  // namespace

std::optional<Version> parse_version(std::string_view text) {
  Version v;
  size_t pos = 0;
  if (!read_number(text, &pos, &v.major) || v.major == 0) return std::nullopt;
  if (pos >= text.size() || text[pos] != '.') return std::nullopt;
  ++pos;
  if (!read_number(text, &pos, &v.minor)) return std::nullopt;
  if (pos < text.size() && text[pos] == '.' && pos + 1 < text.size() && text[pos + 1] >= '0' &&
      text[pos + 1] <= '9') {
    ++pos;
    if (!read_number(text, &pos, &v.patch)) return std::nullopt;
  }
  if (pos < text.size() && !is_suffix_start(text[pos])) return std::nullopt;
  return v;
}

std::string to_string(const Version& v) {
  if (!v.known()) return "-";
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

}  // namespace nestbox::kernel_check
