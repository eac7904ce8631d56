// Builds small but valid dynamic ELF files for tests: any class, byte order
// and machine, with PT_INTERP, DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME.
#pragma once

#include <elf.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nestbox::composer::testing {

struct ElfSpec {
  bool is64 = true;
  bool big_endian = false;
  uint16_t machine = EM_X86_64;
  uint16_t type = ET_DYN;
  std::string interp;
  std::vector<std::string> needed;
  std::string rpath, runpath, soname;
};

inline std::string build_elf(const ElfSpec& s) {
  std::string out;
  auto put = [&](uint64_t off, uint64_t v, int n) {
    if (out.size() < off + n) out.resize(off + n, '\0');
    for (int i = 0; i < n; ++i) {
      int shift = s.big_endian ? (n - 1 - i) * 8 : i * 8;
      out[off + i] = static_cast<char>((v >> shift) & 0xff);
    }
  };
  const bool w = s.is64;
  const uint64_t ehsize = w ? 64 : 52, phentsize = w ? 56 : 32, dynsize = w ? 16 : 8;
  const uint64_t base = 0x10000;
  // Dynamic string table.
  std::string strtab(1, '\0');
  auto add_str = [&](const std::string& str) {
    uint64_t off = strtab.size();
    strtab += str;
    strtab += '\0';
    return off;
  };
  std::vector<std::pair<uint64_t, uint64_t>> dyn;
  for (const auto& n : s.needed) dyn.push_back({DT_NEEDED, add_str(n)});
  if (!s.rpath.empty()) dyn.push_back({DT_RPATH, add_str(s.rpath)});
  if (!s.runpath.empty()) dyn.push_back({DT_RUNPATH, add_str(s.runpath)});
  if (!s.soname.empty()) dyn.push_back({DT_SONAME, add_str(s.soname)});
  const int phnum = s.interp.empty() ? 2 : 3;
  uint64_t off = ehsize + phnum * phentsize;
  const uint64_t interp_off = off;
  off += s.interp.empty() ? 0 : s.interp.size() + 1;
  const uint64_t str_off = off;
  off += strtab.size();
  off = (off + 7) & ~7ull;
  const uint64_t dyn_off = off;
  dyn.push_back({DT_STRTAB, base + str_off});
  dyn.push_back({DT_STRSZ, strtab.size()});
  dyn.push_back({DT_NULL, 0});
  const uint64_t total = dyn_off + dyn.size() * dynsize;
  out.assign(total, '\0');
  out[0] = 0x7f, out[1] = 'E', out[2] = 'L', out[3] = 'F';
  out[EI_CLASS] = w ? ELFCLASS64 : ELFCLASS32;
  out[EI_DATA] = s.big_endian ? ELFDATA2MSB : ELFDATA2LSB;
  out[EI_VERSION] = EV_CURRENT;
  put(16, s.type, 2);
  put(18, s.machine, 2);
  put(20, EV_CURRENT, 4);
  if (w) {
    put(32, ehsize, 8);
    put(52, ehsize, 2);
    put(54, phentsize, 2);
    put(56, phnum, 2);
  } else {
    put(28, ehsize, 4);
    put(40, ehsize, 2);
    put(42, phentsize, 2);
    put(44, phnum, 2);
  }
  auto phdr = [&](int i, uint32_t type, uint64_t o, uint64_t size) {
    uint64_t p = ehsize + i * phentsize;
    put(p, type, 4);
    if (w) {
      put(p + 8, o, 8), put(p + 16, base + o, 8), put(p + 24, base + o, 8);
      put(p + 32, size, 8), put(p + 40, size, 8);
    } else {
      put(p + 4, o, 4), put(p + 8, base + o, 4), put(p + 12, base + o, 4);
      put(p + 16, size, 4), put(p + 20, size, 4);
    }
  };
  int i = 0;
  if (!s.interp.empty()) {
    phdr(i++, PT_INTERP, interp_off, s.interp.size() + 1);
    out.replace(interp_off, s.interp.size(), s.interp);
  }
  phdr(i++, PT_LOAD, 0, total);
  phdr(i++, PT_DYNAMIC, dyn_off, dyn.size() * dynsize);
  out.replace(str_off, strtab.size(), strtab);
  for (size_t k = 0; k < dyn.size(); ++k) {
    put(dyn_off + k * dynsize, dyn[k].first, w ? 8 : 4);
    put(dyn_off + k * dynsize + dynsize / 2, dyn[k].second, w ? 8 : 4);
  }
  return out;
}

}  // namespace nestbox::composer::testing
