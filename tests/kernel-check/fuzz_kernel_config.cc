// libFuzzer target: kernel config bytes (plain or gzip) -> parser -> report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kernel-check/kernel_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nestbox::kernel_check;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string text;
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    auto r = gunzip(bytes, "fuzz", 1u << 20);
    if (!r.ok()) return 0;
    text = std::move(*r);
    bytes = text;
  }
  auto cfg = parse_config(bytes, "fuzz");
  if (!cfg.ok()) return 0;
  auto v = resolve_version(*cfg, std::nullopt);
  Report rep = check_config(*cfg, v.ok() ? *v : ResolvedVersion{{6, 1, 0}, "fuzz"});
  (void)render_json(rep);
  return 0;
}
