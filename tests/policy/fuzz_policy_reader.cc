// libFuzzer target: the policy reader must reject or accept any bytes without
// crashing, and whatever it accepts must re-encode to the same bytes (the
// format is canonical) and print as `nestbox inspect` prints it (text and
// JSON of an untrusted file's strings).
#include <cstdlib>
#include <cstring>

#include "policy/format.h"
#include "policy/render.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = nestbox::policy::decode(std::span<const uint8_t>(data, size));
  if (!p.ok()) return 0;
  (void)nestbox::policy::to_text(*p);
  (void)nestbox::policy::to_json(*p);
  auto again = nestbox::policy::encode(*p);
  if (!again.ok() || again->size() != size || std::memcmp(again->data(), data, size) != 0) std::abort();
  return 0;
}
