// The matchers' own words: description, negation and explanation, since a
// failed expectation is read by a person.
#include "tempmail/gtest/matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tempmail::gtest {
namespace {

using ::testing::DescribeMatcher;
using ::testing::EndsWith;
using ::testing::ExplainMatchResult;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::StringMatchResultListener;

Message signup_email() {
  return Message{
      .id = "m1",
      .subject = "Verify your email",
      .from_name = "My App",
      .from_email = "noreply@myapp.test",
      .to = "box@example.com",
      .received_at = std::chrono::sys_seconds{std::chrono::seconds{1'800'000'000}},
      .html = true,
      .content =
          "<html><head><style>.x{color:#123456}</style></head><body>"
          "<p>Welcome!</p><p>Your verification code is <b>482913</b>.</p>"
          "<p><a href=\"https://myapp.test/verify?token=abc\">Verify my email</a></p>"
          "<p><a href=\"https://myapp.test/unsubscribe\">Unsubscribe</a></p>"
          "</body></html>",
      .attachments = {{.name = "terms.pdf", .extension = "pdf", .size = 10, .url = "u"}}};
}

template <class M>
std::string explain(const M& matcher, const Message& m) {
  StringMatchResultListener listener;
  ::testing::Matcher<const Message&>(matcher).MatchAndExplain(m, &listener);
  return listener.str();
}

TEST(HasSubject, DescribesAndExplainsTheSubject) {
  auto m = HasSubject(HasSubstr("Reset"));
  EXPECT_EQ(DescribeMatcher<const Message&>(m), "has subject that has substring \"Reset\"");
  EXPECT_EQ(DescribeMatcher<const Message&>(m, /*negation=*/true),
            "has subject that has no substring \"Reset\"");
  EXPECT_FALSE(::testing::Matches(m)(signup_email()));
  EXPECT_EQ(explain(m, signup_email()), "whose subject is \"Verify your email\"");
  EXPECT_THAT(signup_email(), HasSubject("Verify your email"));
}

TEST(ContainsPattern, SearchesWithRe2AndDescribesThePattern) {
  EXPECT_THAT(signup_email(), HasSubject(ContainsPattern("^Verify")));
  EXPECT_THAT(signup_email(), HasBodyText(ContainsPattern(R"(code is \d{6}\.$)")));
  EXPECT_THAT("Your code is 123456\n", ContainsPattern("[0-9]+$"));
  auto m = HasSubject(ContainsPattern("^Reset"));
  EXPECT_EQ(DescribeMatcher<const Message&>(m), "has subject that contains a match of /^Reset/");
  EXPECT_EQ(DescribeMatcher<const Message&>(m, /*negation=*/true),
            "has subject that contains no match of /^Reset/");
  EXPECT_EQ(explain(m, signup_email()), "whose subject is \"Verify your email\"");
}

TEST(ContainsPattern, RejectsWhatRe2CannotCompile) {
  EXPECT_THROW(ContainsPattern("(unclosed"), PatternError);
}

TEST(ContainsPattern, HandlesALongTextThatCrashesStdRegex) {
  const std::string body = "code " + std::string(30 * 1024, 'x') + " w";
  EXPECT_THAT(body, ContainsPattern("code.*w"));
  EXPECT_THAT(std::string(50000, 'a') + "!", Not(ContainsPattern("^(a+)+$")));
}

TEST(FromAddress, MatchesTheSenderAddress) {
  EXPECT_THAT(signup_email(), FromAddress(EndsWith("@myapp.test")));
  EXPECT_THAT(signup_email(), Not(FromAddress(EndsWith("@other.test"))));
  EXPECT_EQ(explain(FromAddress(EndsWith("@other.test")), signup_email()),
            "whose sender address is \"noreply@myapp.test\"");
}

TEST(From, MatchesNameAndAddressAsAPersonReadsThem) {
  EXPECT_THAT(signup_email(), From("\"My App\" <noreply@myapp.test>"));
  EXPECT_THAT(signup_email(), FromName("My App"));
  EXPECT_THAT(signup_email(), SentTo("box@example.com"));
}

TEST(HasBodyText, SeesTheRenderedTextNotTheMarkup) {
  EXPECT_THAT(signup_email(), HasBodyText(HasSubstr("Your verification code is 482913.")));
  EXPECT_THAT(signup_email(), Not(HasBodyText(HasSubstr("color"))));
  EXPECT_THAT(signup_email(), HasContent(HasSubstr("<b>482913</b>")));
}

TEST(HasOtp, FindsTheCodeAndExplainsWhatItFound) {
  EXPECT_THAT(signup_email(), HasOtp());
  EXPECT_THAT(signup_email(), HasOtp("482913"));
  EXPECT_THAT(signup_email(), HasOtp(SizeIs(6)));
  EXPECT_EQ(DescribeMatcher<const Message&>(HasOtp("000000")),
            "has a one-time code that is equal to \"000000\"");
  EXPECT_EQ(explain(HasOtp("000000"), signup_email()), "whose one-time code is \"482913\"");
}

TEST(HasOtp, ExplainsAMessageWithoutACode) {
  Message m = signup_email();
  m.content = "<p>Thanks for your order #12345678 of 2026-06-28.</p>";
  EXPECT_THAT(m, Not(HasOtp()));
  EXPECT_EQ(explain(HasOtp(), m), "which has no one-time code");
}

TEST(HasVerificationLink, PicksTheVerifyLinkOverUnsubscribe) {
  EXPECT_THAT(signup_email(), HasVerificationLink(HasSubstr("token=abc")));
  EXPECT_EQ(explain(HasVerificationLink(EndsWith("xyz")), signup_email()),
            "whose verification link is \"https://myapp.test/verify?token=abc\"");
}

TEST(HasLink, ListsTheLinksWhenNoneMatches) {
  EXPECT_THAT(signup_email(), HasLink(EndsWith("/unsubscribe")));
  EXPECT_EQ(explain(HasLink(StartsWith("https://evil.test")), signup_email()),
            "whose links are \"https://myapp.test/verify?token=abc\", "
            "\"https://myapp.test/unsubscribe\"");
}

TEST(HasAttachment, MatchesAnyAttachmentName) {
  EXPECT_THAT(signup_email(), HasAttachment());
  EXPECT_THAT(signup_email(), HasAttachment(EndsWith(".pdf")));
  EXPECT_EQ(explain(HasAttachment(EndsWith(".zip")), signup_email()),
            "whose attachments are \"terms.pdf\"");
  Message none = signup_email();
  none.attachments.clear();
  EXPECT_EQ(explain(HasAttachment(), none), "which has no attachments");
}

TEST(ReceivedAfter, ComparesAtTheApisOneSecondResolution) {
  const auto t = std::chrono::system_clock::time_point{std::chrono::seconds{1'800'000'000}};
  EXPECT_THAT(signup_email(), ReceivedAfter(t));
  EXPECT_THAT(signup_email(), ReceivedAfter(t + std::chrono::milliseconds(999)));
  EXPECT_THAT(signup_email(), Not(ReceivedAfter(t + std::chrono::seconds(1))));
  EXPECT_EQ(DescribeMatcher<const Message&>(ReceivedAfter(t)),
            "was received at or after 2027-01-15 08:00:00");
}

}  // namespace
}  // namespace tempmail::gtest
