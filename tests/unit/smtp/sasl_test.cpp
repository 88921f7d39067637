// The SASL pieces of SMTP AUTH: strict base64 (RFC 4648) and PLAIN (RFC 4616).
#include "local/smtp/sasl.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace tempmail::local::detail {
namespace {

using namespace std::string_literals;

TEST(DecodeBase64, DecodesEveryPaddingLength) {
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_EQ(decode_base64("YQ=="), "a");
  EXPECT_EQ(decode_base64("YWI="), "ab");
  EXPECT_EQ(decode_base64("YWJj"), "abc");
  EXPECT_EQ(decode_base64("AGFwcABzZWNyZXQ="), "\0app\0secret"s);
  EXPECT_EQ(decode_base64("+/+/"), "\xfb\xff\xbf");
}

TEST(DecodeBase64, RefusesWhatIsNotCanonicalBase64) {
  EXPECT_EQ(decode_base64("YQ"), std::nullopt);        // no padding
  EXPECT_EQ(decode_base64("YQ=a"), std::nullopt);      // "=" before the end
  EXPECT_EQ(decode_base64("Y==="), std::nullopt);      // three "="
  EXPECT_EQ(decode_base64("YR=="), std::nullopt);      // bits after the last byte
  EXPECT_EQ(decode_base64("YW I="), std::nullopt);     // a space
  EXPECT_EQ(decode_base64("YWJj\r\n"), std::nullopt);  // a line end
  EXPECT_EQ(decode_base64("YQ==YQ=="), std::nullopt);  // padding in the middle
  EXPECT_EQ(decode_base64("YW-_"), std::nullopt);      // the URL alphabet
}

TEST(EncodeBase64, RoundTripsEveryLength) {
  EXPECT_EQ(encode_base64(""), "");
  EXPECT_EQ(encode_base64("a"), "YQ==");
  EXPECT_EQ(encode_base64("ab"), "YWI=");
  EXPECT_EQ(encode_base64("abc"), "YWJj");
  const std::string bytes = "\0\xff\x10 any bytes"s;
  EXPECT_EQ(decode_base64(encode_base64(bytes)), bytes);
}

TEST(CramMd5Digest, MatchesTheExampleOfRfc2195) {
  EXPECT_EQ(cram_md5_digest("tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net>"),
            "b913a602c7eda7a495b4e6e7334d3890");
}

TEST(EqualInConstantTime, ComparesContentAndLength) {
  EXPECT_TRUE(equal_in_constant_time("secret", "secret"));
  EXPECT_FALSE(equal_in_constant_time("secret", "secreT"));
  EXPECT_FALSE(equal_in_constant_time("secret", "secret2"));
  EXPECT_TRUE(equal_in_constant_time("", ""));
}

TEST(ParsePlain, SplitsAuthzidUserAndPassword) {
  const auto credentials = parse_plain("admin\0app\0secret"s);
  ASSERT_TRUE(credentials);
  EXPECT_EQ(credentials->authzid, "admin");
  EXPECT_EQ(credentials->authcid, "app");
  EXPECT_EQ(credentials->password, "secret");
  EXPECT_EQ(parse_plain("\0app\0secret"s)->authzid, "");
}

TEST(ParsePlain, RefusesAMessageWithoutTwoNulsAUserOrAPassword) {
  EXPECT_EQ(parse_plain("app\0secret"s), std::nullopt);
  EXPECT_EQ(parse_plain("\0app\0secret\0"s), std::nullopt);
  EXPECT_EQ(parse_plain("\0\0secret"s), std::nullopt);
  EXPECT_EQ(parse_plain("\0app\0"s), std::nullopt);
}

}  // namespace
}  // namespace tempmail::local::detail
