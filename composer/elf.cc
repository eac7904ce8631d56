#include "composer/elf.h"

#include <elf.h>

#include <cstring>

namespace nestbox::composer {
namespace {

// Reads integers of the file's byte order with bounds checks.
class Reader {
 public:
  Reader(std::span<const uint8_t> b, bool big) : b_(b), big_(big) {}
  bool u16(uint64_t off, uint64_t* v) const { return get(off, 2, v); }
  bool u32(uint64_t off, uint64_t* v) const { return get(off, 4, v); }
  bool u64(uint64_t off, uint64_t* v) const { return get(off, 8, v); }
  bool word(bool is64, uint64_t off, uint64_t* v) const { return is64 ? u64(off, v) : u32(off, v); }
  size_t size() const { return b_.size(); }
  std::span<const uint8_t> bytes() const { return b_; }

 private:
  bool get(uint64_t off, unsigned n, uint64_t* v) const {
    if (off > b_.size() || b_.size() - off < n) return false;
    uint64_t r = 0;
    for (unsigned i = 0; i < n; ++i) {
      unsigned idx = big_ ? i : n - 1 - i;
      r = (r << 8) | b_[off + idx];
    }
    *v = r;
    return true;
  }
  std::span<const uint8_t> b_;
  bool big_;
};

struct Segment {
  uint64_t type, offset, vaddr, filesz, memsz;
};

struct Dyn {
  uint64_t tag, val;
};

Error elf_error(const std::string& name, const std::string& what) {
  return bad_input(name + ": malformed ELF: " + what);
}

// Maps a virtual address to a file offset through the PT_LOAD segments.
std::optional<uint64_t> vaddr_to_offset(const std::vector<Segment>& segs, uint64_t vaddr) {
  for (const auto& s : segs) {
    if (s.type != PT_LOAD) continue;
    if (vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz) return s.offset + (vaddr - s.vaddr);
  }
  return std::nullopt;
}

// A NUL-terminated string at `off` within [table, table+size).
std::optional<std::string> string_at(std::span<const uint8_t> b, uint64_t table, uint64_t size,
                                     uint64_t idx) {
  if (table > b.size()) return std::nullopt;
  uint64_t end = std::min<uint64_t>(b.size(), size > b.size() - table ? b.size() : table + size);
  if (idx >= end - table) return std::nullopt;
  const uint8_t* start = b.data() + table + idx;
  const void* nul = memchr(start, 0, end - table - idx);
  if (!nul) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(start), static_cast<const uint8_t*>(nul) - start);
}

}  // namespace

bool is_elf(std::span<const uint8_t> b) {
  return b.size() >= 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F';
}

Result<ElfInfo> parse_elf(std::span<const uint8_t> bytes, const std::string& name) {
  if (!is_elf(bytes)) return elf_error(name, "no ELF magic");
  if (bytes.size() < EI_NIDENT) return elf_error(name, "truncated identification");
  ElfInfo info;
  if (bytes[EI_CLASS] != ELFCLASS32 && bytes[EI_CLASS] != ELFCLASS64)
    return elf_error(name, "unknown class " + std::to_string(bytes[EI_CLASS]));
  if (bytes[EI_DATA] != ELFDATA2LSB && bytes[EI_DATA] != ELFDATA2MSB)
    return elf_error(name, "unknown byte order " + std::to_string(bytes[EI_DATA]));
  info.is64 = bytes[EI_CLASS] == ELFCLASS64;
  info.big_endian = bytes[EI_DATA] == ELFDATA2MSB;
  info.osabi = bytes[EI_OSABI];
  Reader r(bytes, info.big_endian);
  const bool w = info.is64;
  uint64_t type, machine, phoff, phentsize, phnum;
  if (!r.u16(16, &type) || !r.u16(18, &machine)) return elf_error(name, "truncated header");
  bool ok = w ? r.u64(32, &phoff) && r.u16(54, &phentsize) && r.u16(56, &phnum)
              : r.u32(28, &phoff) && r.u16(42, &phentsize) && r.u16(44, &phnum);
  if (!ok) return elf_error(name, "truncated header");
  info.type = static_cast<uint16_t>(type);
  info.machine = static_cast<uint16_t>(machine);
  if (phnum == 0) return info;
  const uint64_t min_phent = w ? 56 : 32;
  if (phentsize < min_phent) return elf_error(name, "program header entry too small");
  if (phoff > bytes.size() || (bytes.size() - phoff) / phentsize < phnum)
    return elf_error(name, "program headers outside the file");

  std::vector<Segment> segs;
  for (uint64_t i = 0; i < phnum; ++i) {
    uint64_t p = phoff + i * phentsize;
    Segment s{};
    bool k = w ? r.u32(p, &s.type) && r.u64(p + 8, &s.offset) && r.u64(p + 16, &s.vaddr) &&
                     r.u64(p + 32, &s.filesz) && r.u64(p + 40, &s.memsz)
               : r.u32(p, &s.type) && r.u32(p + 4, &s.offset) && r.u32(p + 8, &s.vaddr) &&
                     r.u32(p + 16, &s.filesz) && r.u32(p + 20, &s.memsz);
    if (!k) return elf_error(name, "truncated program header");
    segs.push_back(s);
  }

  const Segment* dynamic = nullptr;
  for (const auto& s : segs) {
    if (s.type == PT_INTERP && info.interp.empty()) {
      if (s.offset > bytes.size() || s.filesz > bytes.size() - s.offset || s.filesz == 0)
        return elf_error(name, "PT_INTERP outside the file");
      auto str = string_at(bytes, s.offset, s.filesz, 0);
      if (!str || str->empty()) return elf_error(name, "PT_INTERP is not a NUL-terminated string");
      info.interp = *str;
    } else if (s.type == PT_DYNAMIC && !dynamic) {
      dynamic = &s;
    }
  }
  if (!dynamic) return info;
  info.dynamic = true;
  if (dynamic->offset > bytes.size() || dynamic->filesz > bytes.size() - dynamic->offset)
    return elf_error(name, "PT_DYNAMIC outside the file");

  std::vector<Dyn> dyns;
  const uint64_t dsz = w ? 16 : 8;
  for (uint64_t off = dynamic->offset; off + dsz <= dynamic->offset + dynamic->filesz; off += dsz) {
    Dyn d{};
    if (!r.word(w, off, &d.tag) || !r.word(w, off + dsz / 2, &d.val))
      return elf_error(name, "truncated dynamic section");
    if (d.tag == DT_NULL) break;
    dyns.push_back(d);
  }
  uint64_t strtab_vaddr = 0, strsz = 0;
  bool have_strtab = false;
  for (const auto& d : dyns) {
    if (d.tag == DT_STRTAB) strtab_vaddr = d.val, have_strtab = true;
    if (d.tag == DT_STRSZ) strsz = d.val;
  }
  bool wants_strings = false;
  for (const auto& d : dyns)
    if (d.tag == DT_NEEDED || d.tag == DT_RPATH || d.tag == DT_RUNPATH || d.tag == DT_SONAME)
      wants_strings = true;
  if (!wants_strings) return info;
  if (!have_strtab) return elf_error(name, "dynamic section without DT_STRTAB");
  auto strtab = vaddr_to_offset(segs, strtab_vaddr);
  if (!strtab) return elf_error(name, "DT_STRTAB not in a loaded segment");
  if (strsz == 0) strsz = bytes.size() - std::min<uint64_t>(*strtab, bytes.size());

  for (const auto& d : dyns) {
    if (d.tag != DT_NEEDED && d.tag != DT_RPATH && d.tag != DT_RUNPATH && d.tag != DT_SONAME)
      continue;
    auto s = string_at(bytes, *strtab, strsz, d.val);
    if (!s) return elf_error(name, "dynamic string offset " + std::to_string(d.val) + " out of range");
    if (d.tag == DT_NEEDED) info.needed.push_back(*s);
    if (d.tag == DT_RPATH && !info.rpath) info.rpath = *s;
    if (d.tag == DT_RUNPATH && !info.runpath) info.runpath = *s;
    if (d.tag == DT_SONAME) info.soname = *s;
  }
  return info;
}

bool elf_compatible(const ElfInfo& a, const ElfInfo& b) {
  auto generic = [](uint8_t abi) {
    return abi == ELFOSABI_NONE || abi == ELFOSABI_GNU;  // SYSV == NONE, LINUX == GNU
  };
  bool abi_ok = a.osabi == b.osabi || (generic(a.osabi) && generic(b.osabi));
  return abi_ok && a.is64 == b.is64 && a.big_endian == b.big_endian && a.machine == b.machine;
}

}  // namespace nestbox::composer
