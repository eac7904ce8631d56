#include "util/result.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace nestbox {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return bad_input("expected a positive number, got " + std::to_string(v));
  return v;
}

Status twice(int v) {
  NESTBOX_TRY_CTX(parse_positive(v), "argument");
  return ok_status();
}

TEST(Result, CarriesValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(bad.error().message, "expected a positive number, got -1");
}

TEST(Result, TryPropagatesWithContext) {
  EXPECT_TRUE(twice(1).ok());
  Status st = twice(0);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "argument: expected a positive number, got 0");
  EXPECT_EQ(st.error().kind, ErrorKind::kBadInput);
}

TEST(Result, SysErrorKeepsErrno) {
  Error e = sys_error("open /x", ENOENT);
  EXPECT_EQ(e.sys_errno, ENOENT);
  EXPECT_EQ(e.message, "open /x: No such file or directory");
  EXPECT_EQ(e.kind, ErrorKind::kFailure);
}

}  // namespace
}  // namespace nestbox
