#include "manifests/units.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "policy/names.h"

namespace nestbox::manifests {
namespace {

TEST(Units, Sizes) {
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("64K"), 64u << 10);
  EXPECT_EQ(parse_size("512M"), 512u << 20);
  EXPECT_EQ(parse_size("2G"), 2ull << 30);
  EXPECT_EQ(parse_size("1T"), 1ull << 40);
  for (const char* bad : {"", "M", "1.5M", "64k", "64MB", "-1", " 1", "1 M", "99999999999999999999"})
    EXPECT_FALSE(parse_size(bad).has_value()) << bad;
  EXPECT_FALSE(parse_size("17179869184T").has_value());  // overflows 64 bits
}

TEST(Units, Durations) {
  EXPECT_EQ(parse_duration_us("250us"), 250u);
  EXPECT_EQ(parse_duration_us("100ms"), 100000u);
  EXPECT_EQ(parse_duration_us("2s"), 2000000u);
  for (const char* bad : {"", "100", "ms", "1.5s", "10m", "5 ms", "-1s"})
    EXPECT_FALSE(parse_duration_us(bad).has_value()) << bad;
}

TEST(Units, Modes) {
  EXPECT_EQ(parse_mode("0755"), 0755u);
  EXPECT_EQ(parse_mode("1777"), 01777u);
  EXPECT_EQ(parse_mode("644"), 0644u);
  for (const char* bad : {"", "0855", "rwx", "17777", "077777"})
    EXPECT_FALSE(parse_mode(bad).has_value()) << bad;
}

TEST(Units, KernelVersions) {
  EXPECT_EQ(parse_kernel_version("4.15"), (KernelVersion{4, 15, 0}));
  EXPECT_EQ(parse_kernel_version("6.1.0"), (KernelVersion{6, 1, 0}));
  for (const char* bad : {"", "4", "4.", "4.x", "1.2.3.4", "v5.10"})
    EXPECT_FALSE(parse_kernel_version(bad).has_value()) << bad;
}

TEST(Units, NamesAndSuggestions) {
  // The one table the manifest loader and every runtime form read.
  EXPECT_EQ(policy::capability_number("CAP_CHOWN"), 0u);
  EXPECT_EQ(policy::capability_number("CAP_NET_ADMIN"), 12u);
  EXPECT_EQ(policy::capability_number("CAP_CHECKPOINT_RESTORE"), 40u);
  EXPECT_FALSE(policy::capability_number("CAP_FLY").has_value());
  EXPECT_EQ(policy::rlimit_resource("nofile"), uint32_t(RLIMIT_NOFILE));
  EXPECT_STREQ(policy::rlimit_name(RLIMIT_NOFILE), "RLIMIT_NOFILE");
  EXPECT_EQ(policy::rlimit_short_names().size(), 16u);
  for (const char* n : policy::rlimit_short_names())
    EXPECT_STREQ(policy::rlimit_name(*policy::rlimit_resource(n)) + 7, [&] {
      static std::string upper;
      upper = n;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return upper.c_str();
    }()) << n;
  EXPECT_EQ(errno_value("EPERM"), 1);
  EXPECT_EQ(errno_value("38"), 38);
  EXPECT_FALSE(errno_value("EWHAT").has_value());
  EXPECT_EQ(errno_name(38), "ENOSYS");
  std::vector<std::string> keys = {"strategy", "compressor", "binaries"};
  EXPECT_EQ(did_you_mean("stratgy", keys), "strategy");
  EXPECT_EQ(did_you_mean("zzz", keys), "");
}

}  // namespace
}  // namespace nestbox::manifests
