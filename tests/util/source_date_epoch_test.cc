// The one SOURCE_DATE_EPOCH parser: digits only, 0 .. 2^32-1, else refused.
#include "util/source_date_epoch.h"

#include <gtest/gtest.h>

namespace nestbox {
namespace {

TEST(SourceDateEpoch, UnsetOrEmptyIsNone) {
  for (const char* v : {static_cast<const char*>(nullptr), ""}) {
    auto r = parse_source_date_epoch(v);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value());
  }
}

TEST(SourceDateEpoch, SecondsAreTaken) {
  struct Case {
    const char* text;
    int64_t value;
  };
  for (const Case& c : {Case{"0", 0}, Case{"1700000000", 1700000000}, Case{"4294967295", 4294967295ll},
                        Case{"0001", 1}}) {
    auto r = parse_source_date_epoch(c.text);
    ASSERT_TRUE(r.ok()) << c.text;
    EXPECT_EQ(**r, c.value) << c.text;
  }
}

// Each of these was taken by one of the four parsers there used to be.
TEST(SourceDateEpoch, AnythingElseIsRefusedNamingTheValue) {
  for (const char* v : {"-1", "-0", "+5", " 5", "5 ", "12x", "yesterday", "0x10", "4294967296",
                        "99999999999999999999999"}) {
    auto r = parse_source_date_epoch(v);
    ASSERT_FALSE(r.ok()) << v;
    EXPECT_EQ(r.error().kind, ErrorKind::kBadInput) << v;
    EXPECT_EQ(r.error().message, std::string("SOURCE_DATE_EPOCH='") + v +
                                     "': expected seconds since 1970 (a whole number from 0 to 4294967295)");
  }
}

}  // namespace
}  // namespace nestbox
