// parse_command(): one SMTP command line -> verb, arguments or a syntax error.
#include "local/smtp/command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace tempmail::local::detail {
namespace {

using ::testing::HasSubstr;

TEST(SmtpCommandParser, RecognisesEveryVerb) {
  EXPECT_EQ(parse_command("HELO client.test").verb, SmtpVerb::kHelo);
  EXPECT_EQ(parse_command("EHLO client.test").verb, SmtpVerb::kEhlo);
  EXPECT_EQ(parse_command("MAIL FROM:<a@b.test>").verb, SmtpVerb::kMail);
  EXPECT_EQ(parse_command("RCPT TO:<a@b.test>").verb, SmtpVerb::kRcpt);
  EXPECT_EQ(parse_command("DATA").verb, SmtpVerb::kData);
  EXPECT_EQ(parse_command("RSET").verb, SmtpVerb::kRset);
  EXPECT_EQ(parse_command("NOOP").verb, SmtpVerb::kNoop);
  EXPECT_EQ(parse_command("QUIT").verb, SmtpVerb::kQuit);
  EXPECT_EQ(parse_command("VRFY someone").verb, SmtpVerb::kVrfy);
  EXPECT_EQ(parse_command("HELP").verb, SmtpVerb::kHelp);
  EXPECT_EQ(parse_command("AUTH PLAIN").verb, SmtpVerb::kAuth);
  EXPECT_EQ(parse_command("STARTTLS").verb, SmtpVerb::kStartTls);
  EXPECT_EQ(parse_command("STARTTLS now").error->code, 501);
}

TEST(SmtpCommandParser, ReadsTheAuthMechanismAndTheInitialResponse) {
  const SmtpCommand command = parse_command("auth plain AHVzZXIAcGFzcw==");
  EXPECT_FALSE(command.error);
  EXPECT_EQ(command.argument, "PLAIN");
  EXPECT_EQ(command.initial_response, "AHVzZXIAcGFzcw==");
  EXPECT_EQ(parse_command("AUTH LOGIN").initial_response, std::nullopt);
  EXPECT_EQ(parse_command("AUTH PLAIN =").initial_response, "=");  // an empty response
}

TEST(SmtpCommandParser, RefusesAnAuthWithoutAMechanismOrWithExtraWords) {
  EXPECT_EQ(parse_command("AUTH").error->code, 501);
  EXPECT_EQ(parse_command("AUTH PL@IN").error->code, 501);
  EXPECT_EQ(parse_command("AUTH PLAIN abc def").error->code, 501);
  EXPECT_EQ(parse_command("AUTH THIS-NAME-IS-TOO-LONG-X").error->code, 501);
}

TEST(SmtpCommandParser, IgnoresTheCaseOfVerbsAndKeywords) {
  const SmtpCommand command = parse_command("mail from:<A@B.test> size=10 body=8bitmime");
  EXPECT_EQ(command.verb, SmtpVerb::kMail);
  EXPECT_EQ(command.verb_text, "MAIL");
  EXPECT_FALSE(command.error);
  EXPECT_EQ(command.address, "A@B.test");  // the address is kept as sent
  EXPECT_EQ(command.size, 10u);
  EXPECT_EQ(command.body, MailBody::k8BitMime);
  EXPECT_EQ(parse_command("eHlO x.test").verb, SmtpVerb::kEhlo);
}

TEST(SmtpCommandParser, SeparatesNotImplementedFromUnknownVerbs) {
  EXPECT_EQ(parse_command("EXPN list").verb, SmtpVerb::kNotImplemented);
  EXPECT_EQ(parse_command("BDAT 10 LAST").verb, SmtpVerb::kNotImplemented);
  EXPECT_EQ(parse_command("FROB").verb, SmtpVerb::kUnknown);
  EXPECT_EQ(parse_command("").verb, SmtpVerb::kUnknown);
  EXPECT_EQ(parse_command(" HELO x").verb, SmtpVerb::kUnknown);
  EXPECT_EQ(parse_command("HEL\x01O x").verb, SmtpVerb::kUnknown);
  EXPECT_EQ(parse_command("MAILFROM:<a@b>").verb, SmtpVerb::kUnknown);
}

TEST(SmtpCommandParser, TakesTheDomainOfHeloAndEhlo) {
  EXPECT_EQ(parse_command("EHLO client.example.org").argument, "client.example.org");
  EXPECT_EQ(parse_command("HELO [127.0.0.1]").argument, "[127.0.0.1]");
  EXPECT_EQ(parse_command("EHLO  spaced.test  ").argument, "spaced.test");
}

TEST(SmtpCommandParser, RejectsHeloWithoutDomain) {
  const SmtpCommand command = parse_command("EHLO");
  ASSERT_TRUE(command.error);
  EXPECT_EQ(command.error->code, 501);
  EXPECT_THAT(command.error->text, HasSubstr("domain"));
}

TEST(SmtpCommandParser, AcceptsTheNullReversePath) {
  const SmtpCommand command = parse_command("MAIL FROM:<>");
  EXPECT_FALSE(command.error);
  EXPECT_EQ(command.address, "");
}

TEST(SmtpCommandParser, ToleratesASpaceAfterTheColonAndMissingBrackets) {
  EXPECT_EQ(parse_command("MAIL FROM: <a@b.test>").address, "a@b.test");
  EXPECT_EQ(parse_command("RCPT TO:box@example.com").address, "box@example.com");
  EXPECT_EQ(parse_command("RCPT TO: box@example.com").address, "box@example.com");
}

TEST(SmtpCommandParser, DropsASourceRoute) {
  const SmtpCommand command = parse_command("RCPT TO:<@relay.test,@other.test:box@example.com>");
  EXPECT_FALSE(command.error);
  EXPECT_EQ(command.address, "box@example.com");
}

TEST(SmtpCommandParser, KeepsAQuotedLocalPartWithSpacesAndBrackets) {
  const SmtpCommand command = parse_command(R"(RCPT TO:<"odd > name"@example.com>)");
  EXPECT_FALSE(command.error);
  EXPECT_EQ(command.address, R"("odd > name"@example.com)");
}

TEST(SmtpCommandParser, AcceptsUtf8AddressesAndTheSmtputf8Parameter) {
  const SmtpCommand command =
      parse_command("MAIL FROM:<j\xC3\xB6rg@b\xC3\xBC\x63her.test> SMTPUTF8");
  EXPECT_FALSE(command.error);
  EXPECT_TRUE(command.smtputf8);
  EXPECT_EQ(command.address, "j\xC3\xB6rg@b\xC3\xBC\x63her.test");
}

TEST(SmtpCommandParser, RejectsAddressesThatAreNotUtf8) {
  const SmtpCommand command = parse_command("RCPT TO:<box\xFF@example.com>");
  ASSERT_TRUE(command.error);
  EXPECT_EQ(command.error->code, 501);
  EXPECT_EQ(command.error->enhanced, "5.1.3");
}

TEST(SmtpCommandParser, AcceptsPostmasterWithoutDomainOnlyAsRecipient) {
  EXPECT_FALSE(parse_command("RCPT TO:<Postmaster>").error);
  EXPECT_TRUE(parse_command("RCPT TO:<someone>").error);
  EXPECT_TRUE(parse_command("MAIL FROM:<postmaster>").error);
}

TEST(SmtpCommandParser, RejectsMalformedPaths) {
  for (const char* line :
       {"MAIL FROM:<a@b.test", "MAIL FROM:<a@b.test>SIZE=1", "RCPT TO:<>", "RCPT TO:<@relay.test>",
        "RCPT TO:<a b@c.test>", "RCPT TO:<@c.test>", "RCPT TO:<a@>", "RCPT TO:<\"open@c.test>",
        "MAIL FROM:<a\x01@b.test>", "MAIL FROM:a@b.test>", "RCPT TO:<<a@b.test>>"}) {
    const SmtpCommand command = parse_command(line);
    ASSERT_TRUE(command.error) << line;
    EXPECT_EQ(command.error->code, 501) << line;
  }
}

TEST(SmtpCommandParser, RejectsPathsLongerThan256Octets) {
  const std::string local(250, 'a');
  EXPECT_TRUE(parse_command("RCPT TO:<" + local + "@example.com>").error);
  EXPECT_FALSE(parse_command("RCPT TO:<" + std::string(200, 'a') + "@example.com>").error);
}

TEST(SmtpCommandParser, RequiresTheFromAndToKeywords) {
  const SmtpCommand mail = parse_command("MAIL <a@b.test>");
  ASSERT_TRUE(mail.error);
  EXPECT_EQ(mail.error->code, 501);
  EXPECT_THAT(mail.error->text, HasSubstr("MAIL FROM:<address>"));
  EXPECT_TRUE(parse_command("RCPT FROM:<a@b.test>").error);
  EXPECT_TRUE(parse_command("RCPT").error);
}

TEST(SmtpCommandParser, ParsesSizeAndBody) {
  const SmtpCommand command = parse_command("MAIL FROM:<a@b.test> SIZE=26214400 BODY=7BIT");
  EXPECT_FALSE(command.error);
  EXPECT_EQ(command.size, 26214400u);
  EXPECT_EQ(command.body, MailBody::k7Bit);
}

TEST(SmtpCommandParser, RejectsBadSizeAndBodyValues) {
  for (const char* line :
       {"MAIL FROM:<a@b.test> SIZE=", "MAIL FROM:<a@b.test> SIZE=12x",
        "MAIL FROM:<a@b.test> SIZE=-1", "MAIL FROM:<a@b.test> SIZE",
        "MAIL FROM:<a@b.test> SIZE=99999999999999999999999", "MAIL FROM:<a@b.test> BODY=BINARYMIME",
        "MAIL FROM:<a@b.test> SMTPUTF8=1"}) {
    const SmtpCommand command = parse_command(line);
    ASSERT_TRUE(command.error) << line;
    EXPECT_EQ(command.error->code, 501) << line;
  }
}

TEST(SmtpCommandParser, Answers555ForUnknownParameters) {
  const SmtpCommand mail = parse_command("MAIL FROM:<a@b.test> RET=HDRS");
  ASSERT_TRUE(mail.error);
  EXPECT_EQ(mail.error->code, 555);
  EXPECT_THAT(mail.error->text, HasSubstr("RET"));
  const SmtpCommand rcpt = parse_command("RCPT TO:<a@b.test> NOTIFY=NEVER");
  ASSERT_TRUE(rcpt.error);
  EXPECT_EQ(rcpt.error->code, 555);
}

TEST(SmtpCommandParser, RejectsArgumentsToDataRsetAndQuit) {
  EXPECT_TRUE(parse_command("DATA now").error);
  EXPECT_TRUE(parse_command("RSET all").error);
  EXPECT_TRUE(parse_command("QUIT please").error);
  EXPECT_FALSE(parse_command("DATA ").error);  // trailing blanks are harmless
}

TEST(SmtpCommandParser, KeepsTheArgumentOfNoopHelpAndVrfy) {
  EXPECT_EQ(parse_command("NOOP hello there").argument, "hello there");
  EXPECT_EQ(parse_command("HELP MAIL").argument, "MAIL");
  EXPECT_EQ(parse_command("VRFY box").argument, "box");
  EXPECT_TRUE(parse_command("VRFY").error);
}

TEST(SmtpCommandParser, NeverThrowsOnArbitraryBytes) {
  std::string line;
  for (int i = 0; i < 4096; ++i) {
    line.push_back(static_cast<char>((i * 7919) % 256));
    EXPECT_NO_THROW(parse_command(line));
    EXPECT_NO_THROW(parse_command("MAIL FROM:" + line));
    EXPECT_NO_THROW(parse_command("RCPT TO:<" + line));
  }
}

}  // namespace
}  // namespace tempmail::local::detail
