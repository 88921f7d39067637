// ASCII helpers: protocol tokens fold case without the C locale, and nothing
// outside A-Z changes.
#include "common/ascii.hpp"

#include <gtest/gtest.h>

namespace tempmail::detail {
namespace {

TEST(Ascii, FoldsOnlyAToZ) {
  EXPECT_EQ(to_ascii_lower("MAIL From:<Zoë@EXAMPLE.com>"), "mail from:<zoë@example.com>");
  EXPECT_EQ(to_ascii_lower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");  // "ÉTÉ": É stays
  EXPECT_EQ(ascii_upper('z'), 'Z');
  EXPECT_EQ(ascii_upper('{'), '{');
}

TEST(Ascii, ComparesIgnoringCase) {
  EXPECT_TRUE(iequals("Content-Type", "content-TYPE"));
  EXPECT_FALSE(iequals("Content-Type", "Content-Typ"));
  EXPECT_FALSE(iequals("[", "{"));  // 0x5B and 0x7B differ by the case bit, but are not letters
  EXPECT_TRUE(istarts_with("Bearer abc", "bearer "));
  EXPECT_FALSE(istarts_with("Bear", "bearer"));
}

TEST(Ascii, FindsIgnoringCase) {
  EXPECT_EQ(ifind("Content-Type: text/HTML", "text/html"), 14u);
  EXPECT_EQ(ifind("abc", "abcd"), std::string_view::npos);
  EXPECT_EQ(ifind("abc", ""), 0u);
}

TEST(Ascii, TrimsBlanksOrTheCharactersGiven) {
  EXPECT_EQ(trim(" \t value \t"), "value");
  EXPECT_EQ(trim("   "), "");
  EXPECT_EQ(trim("\r\n x \n", " \r\n"), "x");
  EXPECT_EQ(trim("\r\n x \n"), "\r\n x \n");  // blanks only by default
}

}  // namespace
}  // namespace tempmail::detail
