#include "composer/elf.h"

#include <gtest/gtest.h>

#include "composer/mapped_file.h"
#include "tests/composer/elf_builder.h"

namespace nestbox::composer {
namespace {

using testing::build_elf;
using testing::ElfSpec;

std::span<const uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct Variant {
  bool is64, big;
  uint16_t machine;
};

TEST(Elf, ParsesEveryClassAndByteOrder) {
  for (Variant v : {Variant{true, false, EM_X86_64}, Variant{true, false, EM_AARCH64},
                    Variant{false, false, EM_ARM}, Variant{false, true, EM_MIPS},
                    Variant{false, false, EM_MIPS}, Variant{false, true, EM_PPC},
                    Variant{true, true, EM_PPC64}}) {
    ElfSpec s;
    s.is64 = v.is64, s.big_endian = v.big, s.machine = v.machine;
    s.interp = "/lib/ld-test.so.1";
    s.needed = {"libc.so.6", "libfoo.so.2"};
    s.runpath = "$ORIGIN/../lib:/opt/x";
    s.soname = "libme.so.1";
    std::string bytes = build_elf(s);
    auto info = parse_elf(span_of(bytes), "t");
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->is64, v.is64);
    EXPECT_EQ(info->big_endian, v.big);
    EXPECT_EQ(info->machine, v.machine);
    EXPECT_EQ(info->interp, "/lib/ld-test.so.1");
    EXPECT_EQ(info->needed, (std::vector<std::string>{"libc.so.6", "libfoo.so.2"}));
    EXPECT_EQ(info->runpath, "$ORIGIN/../lib:/opt/x");
    EXPECT_FALSE(info->rpath);
    EXPECT_EQ(info->soname, "libme.so.1");
  }
}

TEST(Elf, ParsesRealHostBinary) {
  auto m = MappedFile::open("/bin/ls");
  ASSERT_TRUE(m.ok());
  auto info = parse_elf(m->bytes(), "/bin/ls");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->interp.empty());
  EXPECT_NE(std::find(info->needed.begin(), info->needed.end(), "libc.so.6"), info->needed.end());
}

TEST(Elf, RejectsTruncatedAndCorruptFiles) {
  ElfSpec s;
  s.interp = "/lib/ld.so";
  s.needed = {"libc.so.6"};
  std::string bytes = build_elf(s);
  for (size_t cut : {3ul, 10ul, 40ul, 70ul, bytes.size() - 9}) {
    auto r = parse_elf(span_of(bytes.substr(0, cut)), "cut");
    EXPECT_FALSE(r.ok()) << "cut at " << cut;
  }
  std::string bad = bytes;
  bad[EI_CLASS] = 7;
  auto r = parse_elf(span_of(bad), "x.so");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "x.so: malformed ELF: unknown class 7");
  EXPECT_EQ(r.error().kind, ErrorKind::kBadInput);
}

TEST(Elf, CompatibilityNeedsSameClassOrderMachine) {
  ElfInfo a;
  a.is64 = true, a.machine = EM_X86_64;
  ElfInfo b = a;
  EXPECT_TRUE(elf_compatible(a, b));
  b.osabi = ELFOSABI_GNU;
  EXPECT_TRUE(elf_compatible(a, b));
  b = a, b.is64 = false;
  EXPECT_FALSE(elf_compatible(a, b));
  b = a, b.machine = EM_AARCH64;
  EXPECT_FALSE(elf_compatible(a, b));
  b = a, b.big_endian = true;
  EXPECT_FALSE(elf_compatible(a, b));
}

}  // namespace
}  // namespace nestbox::composer
