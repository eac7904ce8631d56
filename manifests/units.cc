#include "manifests/units.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <vector>

namespace nestbox::manifests {
namespace {

std::optional<uint64_t> parse_digits(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  uint64_t mult = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': mult = 1ull << 10; break;
      case 'M': mult = 1ull << 20; break;
      case 'G': mult = 1ull << 30; break;
      case 'T': mult = 1ull << 40; break;
      default: break;
    }
  }
  if (mult != 1) text.remove_suffix(1);
  auto n = parse_digits(text);
  uint64_t out;
  if (!n || mul_overflows(*n, mult, &out)) return std::nullopt;
  return out;
}

std::optional<uint64_t> parse_duration_us(std::string_view text) {
  struct Unit { std::string_view suffix; uint64_t us; };
  static constexpr Unit kUnits[] = {{"us", 1}, {"ms", 1000}, {"s", 1000000}};
  for (const Unit& u : kUnits) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      std::string_view digits = text.substr(0, text.size() - u.suffix.size());
      // "ms" also ends with "s": only accept if the rest is all digits.
      auto n = parse_digits(digits);
      uint64_t out;
      if (n && !mul_overflows(*n, u.us, &out)) return out;
    }
  }
  return std::nullopt;
}

std::optional<uint32_t> parse_mode(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + static_cast<uint32_t>(c - '0');
  }
  if (v > 07777) return std::nullopt;
  return v;
}

std::optional<KernelVersion> parse_kernel_version(std::string_view text) {
  KernelVersion v;
  int* parts[] = {&v.major, &v.minor, &v.patch};
  size_t n = 0;
  while (n < 3) {
    size_t dot = text.find('.');
    std::string_view part = text.substr(0, dot);
    auto d = parse_digits(part);
    if (!d || *d > 65535) return std::nullopt;
    *parts[n++] = static_cast<int>(*d);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
    if (n == 3) return std::nullopt;  // a fourth component
  }
  if (n < 2) return std::nullopt;
  return v;
}

namespace {
struct NamedInt { const char* name; int value; };

constexpr NamedInt kErrnos[] = {
    {"EPERM", EPERM}, {"ENOENT", ENOENT}, {"ESRCH", ESRCH}, {"EINTR", EINTR}, {"EIO", EIO},
    {"ENXIO", ENXIO}, {"E2BIG", E2BIG}, {"ENOEXEC", ENOEXEC}, {"EBADF", EBADF},
    {"ECHILD", ECHILD}, {"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM}, {"EACCES", EACCES},
    {"EFAULT", EFAULT}, {"EBUSY", EBUSY}, {"EEXIST", EEXIST}, {"EXDEV", EXDEV},
    {"ENODEV", ENODEV}, {"ENOTDIR", ENOTDIR}, {"EISDIR", EISDIR}, {"EINVAL", EINVAL},
    {"ENFILE", ENFILE}, {"EMFILE", EMFILE}, {"ENOTTY", ENOTTY}, {"EFBIG", EFBIG},
    {"ENOSPC", ENOSPC}, {"ESPIPE", ESPIPE}, {"EROFS", EROFS}, {"EMLINK", EMLINK},
    {"EPIPE", EPIPE}, {"ENOSYS", ENOSYS}, {"EOPNOTSUPP", EOPNOTSUPP},
    {"EAFNOSUPPORT", EAFNOSUPPORT}, {"EPROTONOSUPPORT", EPROTONOSUPPORT},
    {"ECONNREFUSED", ECONNREFUSED}, {"ENETUNREACH", ENETUNREACH},
};
}  // namespace

std::optional<int> errno_value(std::string_view name) {
  for (const NamedInt& e : kErrnos)
    if (name == e.name) return e.value;
  auto n = parse_digits(name);
  if (n && *n >= 1 && *n <= 4095) return static_cast<int>(*n);
  return std::nullopt;
}

std::string errno_name(int value) {
  for (const NamedInt& e : kErrnos)
    if (e.value == value) return e.name;
  return std::to_string(value);
}

std::string did_you_mean(std::string_view word, std::span<const std::string> candidates) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diag = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace nestbox::manifests
