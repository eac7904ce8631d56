#include "util/json_quote.h"

#include <gtest/gtest.h>

#include <string>

namespace nestbox {
namespace {

TEST(JsonQuote, PlainTextIsQuotedAsIs) { EXPECT_EQ(json_string("dns-1.2"), "\"dns-1.2\""); }

TEST(JsonQuote, QuotesBackslashesAndControlCharactersAreEscaped) {
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
  EXPECT_EQ(json_string(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(json_string(std::string("\0", 1)), "\"\\u0000\"");
}

TEST(JsonQuote, BytesAboveAsciiPassThrough) { EXPECT_EQ(json_string("caf\xc3\xa9"), "\"caf\xc3\xa9\""); }

TEST(JsonQuote, AppendsToWhatIsThere) {
  std::string out = "{\"k\":";
  append_json_string(&out, "v");
  EXPECT_EQ(out, "{\"k\":\"v\"");
}

}  // namespace
}  // namespace nestbox
