#include "client/url.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace tempmail::detail {
namespace {

using ::testing::HasSubstr;

TEST(MakeTarget, EncodesPlusInAQueryValueAndKeepsTheAt) {
  EXPECT_EQ(make_target({"api", "messages"}, {{"email", "a+b@example.com"}}),
            "/api/messages?email=a%2Bb@example.com");
}

TEST(MakeTarget, EncodesSpacesAndNonAsciiInAPathSegment) {
  EXPECT_EQ(make_target({"api", "messages", "ID1", "attachments", "my file \xC3\xBC.pdf"}),
            "/api/messages/ID1/attachments/my%20file%20%C3%BC.pdf");
}

TEST(MakeTarget, KeepsAnAddressOneSegment) {
  EXPECT_EQ(make_target({"api", "emails", "a+b@example.com", "demo123", "example.com"}),
            "/api/emails/a%2Bb@example.com/demo123/example.com");
}

TEST(MakeTarget, EncodesCharactersThatWouldChangeThePath) {
  EXPECT_EQ(make_target({"api", "messages", "a/b?c#d"}), "/api/messages/a%2Fb%3Fc%23d");
  EXPECT_EQ(make_target({"api", "messages", ".."}), "/api/messages/%2E%2E");
  EXPECT_EQ(make_target({"api", "messages", "."}), "/api/messages/%2E");
  EXPECT_EQ(make_target({"api", "messages", "100%"}), "/api/messages/100%25");
}

TEST(MakeTarget, EncodesQuerySyntaxInAValue) {
  EXPECT_EQ(make_target({"api", "domains"}, {{"type", "free&x=1 #"}}),
            "/api/domains?type=free%26x%3D1%20%23");
}

TEST(ParseBaseUrl, ReadsSchemeHostAndPort) {
  EXPECT_EQ(parse_base_url("https://v1.tempmailg.com"),
            (BaseUrl{.https = true,
                     .host = "v1.tempmailg.com",
                     .port = 443,
                     .host_header = "v1.tempmailg.com"}));
  EXPECT_EQ(
      parse_base_url("http://127.0.0.1:8025/"),
      (BaseUrl{
          .https = false, .host = "127.0.0.1", .port = 8025, .host_header = "127.0.0.1:8025"}));
  EXPECT_EQ(
      parse_base_url("HTTP://Example.COM:80"),
      (BaseUrl{.https = false, .host = "example.com", .port = 80, .host_header = "example.com"}));
  EXPECT_EQ(parse_base_url("http://[::1]:9000"),
            (BaseUrl{.https = false, .host = "::1", .port = 9000, .host_header = "[::1]:9000"}));
}

TEST(ParseBaseUrl, RejectsWhatItCannotUseNamingTheOption) {
  for (std::string_view bad :
       {"", "v1.tempmailg.com", "ftp://example.com", "http://", "http://example.com/api",
        "http://example.com?x=1", "http://example.com#top", "http://user:pw@example.com",
        "http://example.com:0", "http://example.com:99999", "http://example.com:http",
        "http://exa mple.com"}) {
    try {
      (void)parse_base_url(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("ClientOptions.base_url")) << bad;
    }
  }
}

}  // namespace
}  // namespace tempmail::detail
