#include "composer/host_xattrs.h"

#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tests/composer/test_util.h"

namespace nestbox::composer {
namespace {

using testing::TempDir;
using testing::write;

TEST(HostXattrs, NoneIsAnEmptyList) {
  TempDir d;
  write(d / "plain", "x");
  auto x = read_host_xattrs(d / "plain");
  ASSERT_TRUE(x.ok()) << x.error().message;
  EXPECT_TRUE(x->empty());
}

// More names and longer values than the first small buffer holds: every
// one is read whole, and the list comes back sorted.
TEST(HostXattrs, LongNamesAndValuesAreReadWhole) {
  TempDir d;
  std::string f = d / "many";
  write(f, "x");
  std::vector<Xattr> want;
  for (int i = 0; i < 8; ++i) {
    std::string name = "user.nestbox-test-attribute-with-a-long-name-" + std::to_string(7 - i);
    std::string value(i == 3 ? 1000 : 10 + i, static_cast<char>('a' + i));
    ASSERT_EQ(::setxattr(f.c_str(), name.c_str(), value.data(), value.size(), 0), 0)
        << "user xattrs unsupported under " << d.path();
    want.push_back({name, value});
  }
  std::sort(want.begin(), want.end());
  auto got = read_host_xattrs(f);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, want);
}

// A symlink's own xattrs, unless asked to follow it.
TEST(HostXattrs, ASymlinkIsReadItselfUnlessFollowed) {
  TempDir d;
  write(d / "target", "x");
  ASSERT_EQ(::setxattr((d / "target").c_str(), "user.on-target", "1", 1, 0), 0);
  ASSERT_EQ(::symlink("target", (d / "link").c_str()), 0);
  auto own = read_host_xattrs(d / "link");
  ASSERT_TRUE(own.ok()) << own.error().message;
  EXPECT_TRUE(own->empty());
  auto followed = read_host_xattrs(d / "link", true);
  ASSERT_TRUE(followed.ok()) << followed.error().message;
  ASSERT_EQ(followed->size(), 1u);
  EXPECT_EQ((*followed)[0].name, "user.on-target");
}

TEST(HostXattrs, AMissingFileNamesItself) {
  auto x = read_host_xattrs("/nonexistent/nestbox");
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.error().message, "listxattr /nonexistent/nestbox: No such file or directory");
}

}  // namespace
}  // namespace nestbox::composer
