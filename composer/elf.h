// A small ELF reader for dependency closure: class (32/64), byte order,
// machine, PT_INTERP, DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME. Works on
// any architecture's files; every offset is bounds-checked because the bytes
// come from untrusted packages.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "util/result.h"

namespace nestbox::composer {

struct ElfInfo {
  bool is64 = false;
  bool big_endian = false;
  uint8_t osabi = 0;
  uint16_t type = 0;     // ET_EXEC, ET_DYN, ...
  uint16_t machine = 0;  // EM_*
  std::string interp;    // PT_INTERP, empty when absent
  std::vector<std::string> needed;       // DT_NEEDED in file order
  std::optional<std::string> rpath;      // DT_RPATH
  std::optional<std::string> runpath;    // DT_RUNPATH
  std::string soname;                    // DT_SONAME
  bool dynamic = false;                  // has PT_DYNAMIC
};

// True when the bytes start with the ELF magic.
bool is_elf(std::span<const uint8_t> bytes);

// Parses `bytes` (a whole file). `name` is used in error messages only.
Result<ElfInfo> parse_elf(std::span<const uint8_t> bytes, const std::string& name);

// Whether a library can satisfy a dependency of `a` (same class, byte order,
// machine; compatible OS ABI), the rule the dynamic loader and lddtree apply.
bool elf_compatible(const ElfInfo& a, const ElfInfo& b);

}  // namespace nestbox::composer
