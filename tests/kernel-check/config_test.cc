#include "kernel-check/config.h"

#include <gtest/gtest.h>

#include "kernel-check/version.h"
#include "tests/kernel-check/test_util.h"

namespace nestbox::kernel_check {
namespace {

using testing::gzip;
using testing::TempDir;

constexpr const char* kSmall =
    "#\n"
    "# Automatically generated file; DO NOT EDIT.\n"
    "# Linux/x86 6.1.0 Kernel Configuration\n"
    "#\n"
    "CONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14) 12.2.0\"\n"
    "CONFIG_USER_NS=y\n"
    "CONFIG_SQUASHFS=m\n"
    "# CONFIG_SQUASHFS_ZSTD is not set\n"
    "CONFIG_LOG_BUF_SHIFT=17\n"
    "CONFIG_PHYSICAL_START=0x1000000\n"
    "\n"
    "CONFIG_DEFAULT_HOSTNAME=\"(none) \\\"q\\\"\"\n";

TEST(ConfigParse, ValuesAndHeader) {
  Result<KernelConfig> c = parse_config(kSmall, "small.config");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->arch, "x86");
  ASSERT_TRUE(c->version);
  EXPECT_EQ(to_string(*c->version), "6.1.0");
  EXPECT_EQ(c->tristate("USER_NS"), Tristate::kYes);
  EXPECT_EQ(c->tristate("SQUASHFS"), Tristate::kModule);
  EXPECT_EQ(c->tristate("SQUASHFS_ZSTD"), Tristate::kNo);
  EXPECT_EQ(c->symbols.at("SQUASHFS_ZSTD").line, 8);
  EXPECT_EQ(c->tristate("NOT_THERE"), Tristate::kNo);
  EXPECT_EQ(c->symbols.at("LOG_BUF_SHIFT").kind, ConfigValue::Kind::kNumber);
  EXPECT_EQ(c->tristate("LOG_BUF_SHIFT"), Tristate::kNo);  // numbers never enable a facility
  EXPECT_EQ(c->symbols.at("PHYSICAL_START").text, "0x1000000");
  EXPECT_EQ(c->symbols.at("DEFAULT_HOSTNAME").kind, ConfigValue::Kind::kString);
  EXPECT_EQ(c->symbols.at("DEFAULT_HOSTNAME").text, "(none) \"q\"");
}

TEST(ConfigParse, LastAssignmentWinsAndCrlf) {
  Result<KernelConfig> c = parse_config("CONFIG_A=y\r\nCONFIG_A=m\r\n# CONFIG_B is not set\r\n", "f");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->tristate("A"), Tristate::kModule);
  EXPECT_FALSE(c->version);
}

TEST(ConfigParse, OldStyleHeader) {
  Result<KernelConfig> c = parse_config("# Linux kernel version: 2.6.32.27\nCONFIG_A=y\n", "old");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(to_string(*c->version), "2.6.32");
}

struct BadCase {
  const char* text;
  const char* message;
};

class ConfigErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigErrors, ExactMessage) {
  Result<KernelConfig> c = parse_config(GetParam().text, "bad.config");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(c.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    All, ConfigErrors,
    ::testing::Values(
        BadCase{"[Unit]\nDescription=not a kernel config\n",
                "bad.config:1:1: expected 'CONFIG_<NAME>=<value>', '# CONFIG_<NAME> is not set' or a "
                "comment, got '[Unit]'"},
        BadCase{"CONFIG_A=y\nCONFIG_B=yes\n",
                "bad.config:2:10: CONFIG_B: expected y, m, n, a number or a quoted string, got 'yes'"},
        BadCase{"CONFIG_A=y\nCONFIG_S=\"open\n",
                "bad.config:2:10: CONFIG_S: unterminated string (missing '\"')"},
        BadCase{"CONFIG_S=\"a\"b\n", "bad.config:1:13: CONFIG_S: unexpected text after the closing quote"},
        BadCase{"CONFIG_A y\n", "bad.config:1:9: expected '=' after the symbol name in 'CONFIG_A y'"},
        BadCase{"# Linux/x86 six.one Kernel Configuration\nCONFIG_A=y\n",
                "bad.config:1:13: kernel config header: unparsable kernel version 'six.one', expected "
                "MAJOR.MINOR[.PATCH][-suffix]"},
        BadCase{"# just comments\n\n", "bad.config: no CONFIG_ symbols: not a kernel config"},
        BadCase{"", "bad.config: no CONFIG_ symbols: not a kernel config"}));

TEST(ConfigParse, BinaryDataIsRejected) {
  std::string text = "CONFIG_A=y\n\x7f" "ELF\x02\x01";
  text += std::string(1, '\0') + "junk";
  Result<KernelConfig> c = parse_config(text, "vmlinux");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "vmlinux:2:7: binary data (NUL byte): not a kernel config");
}

TEST(ConfigLoad, PlainAndGzipGiveTheSameSymbols) {
  TempDir dir;
  std::string plain = dir.write("config", kSmall);
  std::string gz = dir.write("config.gz", gzip(kSmall));
  Result<KernelConfig> a = load_config(plain);
  Result<KernelConfig> b = load_config(gz);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(a->symbols.size(), b->symbols.size());
  EXPECT_EQ(b->tristate("SQUASHFS"), Tristate::kModule);
  EXPECT_EQ(b->file, gz);
}

TEST(ConfigLoad, ConcatenatedGzipMembers) {
  TempDir dir;
  std::string gz = dir.write("two.gz", gzip("CONFIG_A=y\n") + gzip("CONFIG_B=m\n"));
  Result<KernelConfig> c = load_config(gz);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->tristate("B"), Tristate::kModule);
}

TEST(ConfigLoad, TruncatedGzip) {
  TempDir dir;
  std::string full = gzip(std::string(kSmall) + std::string(kSmall));
  std::string path = dir.write("cut.gz", full.substr(0, full.size() / 2));
  Result<KernelConfig> c = load_config(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(c.error().message.rfind(path + ": truncated gzip data (the stream ends after " +
                                        std::to_string(full.size() / 2) + " bytes, ",
                                    0),
            0u)
      << c.error().message;
}

TEST(ConfigLoad, CorruptGzip) {
  TempDir dir;
  std::string data = gzip(kSmall);
  for (size_t i = 12; i < 40 && i < data.size(); ++i) data[i] = static_cast<char>(0xff);
  std::string path = dir.write("corrupt.gz", data);
  Result<KernelConfig> c = load_config(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.rfind(path + ": corrupt gzip data at byte ", 0), 0u) << c.error().message;
}

TEST(ConfigLoad, GzipBombIsCapped) {
  std::string bomb = gzip(std::string(2u << 20, 'A'));
  Result<std::string> r = gunzip(bomb, "bomb.gz", 1u << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "bomb.gz: gzip data inflates beyond 1 MiB: not a kernel config");
}

TEST(ConfigLoad, MissingFile) {
  Result<KernelConfig> c = load_config("/nonexistent/config");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(c.error().message, "kernel config: open /nonexistent/config: No such file or directory");
}

}  // namespace
}  // namespace nestbox::kernel_check
