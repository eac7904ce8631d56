#include "composer/path.h"

#include <gtest/gtest.h>

namespace nestbox::composer {
namespace {

TEST(Path, NormalizeMember) {
  EXPECT_EQ(*normalize_member("./usr//bin/", false), "/usr/bin");
  EXPECT_EQ(*normalize_member(".", false), "/");
  EXPECT_EQ(*normalize_member("", false), "/");
  EXPECT_EQ(normalize_member("a/../../etc", false).error().message,
            "path 'a/../../etc' contains '..'");
  EXPECT_EQ(normalize_member("/etc/passwd", false).error().message,
            "absolute path '/etc/passwd' not allowed");
  EXPECT_EQ(*normalize_member("/etc/passwd", true), "/etc/passwd");
}

TEST(Path, SymlinkDestination) {
  EXPECT_EQ(*symlink_destination("/usr/lib/libc.so", "libc.so.6"), "/usr/lib/libc.so.6");
  EXPECT_EQ(*symlink_destination("/lib64/ld.so", "../lib/x/ld.so"), "/lib/x/ld.so");
  EXPECT_EQ(*symlink_destination("/a/l", "/../../etc"), "/etc");
  EXPECT_FALSE(symlink_destination("/a/l", "../../etc").ok());
  EXPECT_FALSE(symlink_destination("/l", "..").ok());
}

TEST(Path, Helpers) {
  EXPECT_EQ(parent_of("/usr/bin/x"), "/usr/bin");
  EXPECT_EQ(parent_of("/x"), "/");
  EXPECT_EQ(base_of("/usr/bin/x"), "x");
  EXPECT_EQ(join_clamped("/usr/lib", "../../../etc"), "/etc");
  EXPECT_TRUE(path_within("/usr/x", "/usr"));
  EXPECT_TRUE(path_within("/usr", "/usr"));
  EXPECT_FALSE(path_within("/usrx", "/usr"));
}

}  // namespace
}  // namespace nestbox::composer
