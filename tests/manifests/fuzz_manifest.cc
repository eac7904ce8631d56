// libFuzzer target: any bytes as a manifest. The loader must return a value or
// an error, never crash, hang or leak; an accepted manifest must round-trip
// through JSON.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "manifests/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = nestbox::manifests::load_string(text, "fuzz.toml");
  if (!m.ok()) {
    if (m.error().message.rfind("fuzz.toml:", 0) != 0) std::abort();  // every error names its place
    return 0;
  }
  std::string json = nestbox::manifests::to_json(*m);
  auto back = nestbox::manifests::from_json(json, "fuzz.json");
  if (!back.ok() || nestbox::manifests::to_json(*back) != json) std::abort();
  return 0;
}
