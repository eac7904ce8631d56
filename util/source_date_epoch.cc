#include "util/source_date_epoch.h"

#include <cstdlib>
#include <string>

namespace nestbox {

Result<std::optional<int64_t>> parse_source_date_epoch(const char* value) {
  if (value == nullptr || *value == '\0') return std::optional<int64_t>();
  int64_t n = 0;
  for (const char* p = value; *p; ++p) {
    // Digits only: strtoll would take a sign, leading spaces and overflow.
    if (*p < '0' || *p > '9' || (n = n * 10 + (*p - '0')) > kMaxSourceDateEpoch)
      return bad_input(std::string("SOURCE_DATE_EPOCH='") + value +
                       "': expected seconds since 1970 (a whole number from 0 to 4294967295)");
  }
  return std::optional<int64_t>(n);
}

Result<std::optional<int64_t>> source_date_epoch_from_env() {
  return parse_source_date_epoch(std::getenv("SOURCE_DATE_EPOCH"));
}

}  // namespace nestbox
