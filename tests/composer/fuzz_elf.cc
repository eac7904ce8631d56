// libFuzzer target: the ELF reader must never read out of bounds or crash on
// arbitrary bytes. Seed corpus: corpus/elf/.
#include <cstddef>
#include <cstdint>

#include "composer/elf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = nestbox::composer::parse_elf({data, size}, "fuzz");
  (void)r;
  return 0;
}
