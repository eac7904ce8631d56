// libFuzzer target for boot's quoting of a container's output
// (launcher/quoted_output.h): any bytes, cut into any reads, give only whole
// log lines that start with the container's prefix, hold no control byte but
// a tab, no DEL, no C1 control and only valid UTF-8, and are at most
// kMaxLine bytes after the prefix.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "launcher/quoted_output.h"

namespace {

constexpr std::string_view kPrefix = "app: ";

// The length of the valid UTF-8 character (not a C1 control) at `s`, or 0.
size_t utf8_len(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || n > s.size()) return 0;
  for (size_t i = 1; i < n; ++i)
    if ((b(i) & 0xc0) != 0x80) return 0;
  uint32_t cp = n == 2 ? ((c & 0x1f) << 6) | (b(1) & 0x3f)
              : n == 3 ? ((c & 0x0f) << 12) | ((b(1) & 0x3f) << 6) | (b(2) & 0x3f)
                       : ((c & 0x07) << 18) | ((b(1) & 0x3f) << 12) | ((b(2) & 0x3f) << 6) | (b(3) & 0x3f);
  bool shortest = (n == 2 && cp >= 0x80) || (n == 3 && cp >= 0x800) || (n == 4 && cp >= 0x10000);
  if (!shortest || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f)) return 0;
  return n;
}

void check(const std::string& out) {
  if (!out.empty() && out.back() != '\n') __builtin_trap();
  for (size_t at = 0; at < out.size();) {
    size_t nl = out.find('\n', at);
    std::string_view line(out.data() + at, nl - at);
    if (line.substr(0, kPrefix.size()) != kPrefix) __builtin_trap();
    std::string_view body = line.substr(kPrefix.size());
    if (body.size() > nestbox::launcher::LineQuoter::kMaxLine) __builtin_trap();
    for (size_t i = 0; i < body.size();) {
      unsigned char c = static_cast<unsigned char>(body[i]);
      if (c < 0x80) {
        if ((c < 0x20 && c != '\t') || c == 0x7f) __builtin_trap();
        ++i;
      } else {
        size_t n = utf8_len(body.substr(i));
        if (n == 0) __builtin_trap();
        i += n;
      }
    }
    at = nl + 1;
  }
}

}  // namespace

// The first byte sets the size of each read (1..256), the rest is the output.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = size_t(data[0]) + 1;
  const char* text = reinterpret_cast<const char*>(data + 1);
  size_t left = size - 1;
  nestbox::launcher::LineQuoter quoter{std::string(kPrefix)};
  std::string out;
  for (size_t at = 0; at < left; at += chunk) out += quoter.feed(text + at, std::min(chunk, left - at));
  out += quoter.end();
  check(out);
  return 0;
}
