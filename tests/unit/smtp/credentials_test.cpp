// SmtpCredentials (configured SMTP users) and their USER:PASS spelling.
#include "local/smtp/credentials.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace tempmail::local::detail {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(SmtpCredentials, AcceptsOnlyAConfiguredPair) {
  SmtpCredentials credentials;
  credentials.add("app", "secret");
  EXPECT_TRUE(credentials.accepts("app", "secret"));
  EXPECT_FALSE(credentials.accepts("app", "Secret"));
  EXPECT_FALSE(credentials.accepts("other", "secret"));
  EXPECT_FALSE(credentials.accepts("other", ""));
  EXPECT_EQ(credentials.password_of("app"), "secret");
  EXPECT_EQ(credentials.password_of("other"), std::nullopt);
  EXPECT_TRUE(credentials.knows_passwords());
}

TEST(SmtpCredentials, KeepsTheLastPasswordGivenForAUser) {
  SmtpCredentials credentials;
  credentials.add("app", "old");
  credentials.add("app", "new");
  EXPECT_FALSE(credentials.accepts("app", "old"));
  EXPECT_TRUE(credentials.accepts("app", "new"));
}

TEST(ParseSmtpUser, SplitsAtTheFirstColon) {
  EXPECT_EQ(parse_smtp_user("app:pa:ss"), std::make_pair(std::string("app"), std::string("pa:ss")));
}

TEST(ParseSmtpUser, SaysWhatIsMissingWithoutQuotingThePassword) {
  EXPECT_THROW(parse_smtp_user("app"), std::invalid_argument);
  EXPECT_THROW(parse_smtp_user("app:"), std::invalid_argument);
  try {
    parse_smtp_user(":hunter2");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("name"), Not(HasSubstr("hunter2"))));
  }
}

}  // namespace
}  // namespace tempmail::local::detail
