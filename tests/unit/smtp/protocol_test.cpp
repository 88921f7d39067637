// SmtpProtocol as a whole, without a socket: bytes in, replies, deliveries and
// actions out. Read top to bottom, this is the server's SMTP conversation.
#include "local/smtp/protocol.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "local/smtp/credentials.hpp"

namespace tempmail::local::detail {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

std::string fixed_date() { return "Fri, 04 Dec 2026 03:00:00 +0000"; }

class FakeRecipients : public RecipientCheck {
 public:
  bool accepts_recipient(std::string_view address) override {
    if (fail) throw std::runtime_error("store unavailable");
    return live.contains(std::string(address));
  }
  std::set<std::string> live{"box@example.com", "other@example.com"};
  bool fail = false;
};

// Drives one protocol as a socket adapter would. With `hold` set, a delivery
// stays out until deliver_held() answers it.
class Conversation {
 public:
  explicit Conversation(SmtpLimits limits = {}) : limits_(std::move(limits)) {}

  /// Sends bytes and returns every reply they caused, in order.
  std::string send(std::string_view bytes) {
    protocol_.receive(bytes);
    return run();
  }

  /// The greeting, then EHLO: the usual start.
  void greet_and_ehlo() {
    protocol_.greet();
    run();
    send("EHLO client.test\r\n");
  }

  /// MAIL, one RCPT and DATA, answered 250, 250 and 354.
  void start_data(std::string_view recipient = "box@example.com") {
    EXPECT_THAT(send("MAIL FROM:<a@b.test>\r\n"), StartsWith("250 2.1.0"));
    EXPECT_THAT(send("RCPT TO:<" + std::string(recipient) + ">\r\n"), StartsWith("250 2.1.5"));
    EXPECT_THAT(send("DATA\r\n"), StartsWith("354 "));
  }

  std::string run() {
    action_ = protocol_.advance();
    while (action_ == SmtpAction::kDeliver && !hold && !held_) {
      deliveries_.push_back(protocol_.take_delivery());
      protocol_.delivered(outcome);
      action_ = protocol_.advance();
    }
    if (action_ == SmtpAction::kDeliver && !held_) {
      deliveries_.push_back(protocol_.take_delivery());
      held_ = true;
    }
    std::string out;
    out.swap(protocol_.output());
    return out;
  }

  std::string deliver_held(std::error_code error = {}) {
    held_ = false;
    protocol_.delivered(error);
    return run();
  }

  SmtpProtocol& protocol() { return protocol_; }
  [[nodiscard]] SmtpAction action() const { return action_; }
  [[nodiscard]] const std::vector<SmtpDelivery>& deliveries() const { return deliveries_; }
  FakeRecipients recipients;
  std::error_code outcome;
  bool hold = false;

 private:
  SmtpLimits limits_;
  SmtpProtocol protocol_{limits_, "192.0.2.7", recipients, {.date = fixed_date}};
  SmtpAction action_ = SmtpAction::kRead;
  std::vector<SmtpDelivery> deliveries_;
  bool held_ = false;
};

// --- greeting and hello ----------------------------------------------------------

TEST(SmtpProtocol, GreetsWith220AndTheHostname) {
  Conversation c({.hostname = "mx.test"});
  c.protocol().greet();
  EXPECT_EQ(c.run(), "220 mx.test ESMTP tempmail ready\r\n");
  EXPECT_EQ(c.action(), SmtpAction::kRead);
}

TEST(SmtpProtocol, GreetsWith421AndClosesWhenTheServerIsShuttingDown) {
  Conversation c;
  c.protocol().greet(/*shutting_down=*/true);
  EXPECT_THAT(c.run(), StartsWith("421 4.3.2"));
  EXPECT_EQ(c.action(), SmtpAction::kClose);
}

TEST(SmtpProtocol, AdvertisesItsExtensionsOnEhlo) {
  Conversation c({.hostname = "mx.test", .max_message_bytes = 1000});
  EXPECT_EQ(c.send("EHLO client.test\r\n"),
            "250-mx.test greets client.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
            "250-SMTPUTF8\r\n250-SIZE 1000\r\n250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n");
}

TEST(SmtpProtocol, AnswersHeloWithTheHostname) {
  Conversation c({.hostname = "mx.test"});
  EXPECT_EQ(c.send("HELO client.test\r\n"), "250 mx.test\r\n");
}

// --- the command sequence --------------------------------------------------------

TEST(SmtpProtocol, RefusesMailBeforeHelloWith503) {
  Conversation c;
  EXPECT_THAT(c.send("MAIL FROM:<a@b.test>\r\n"), StartsWith("503 5.5.1"));
}

TEST(SmtpProtocol, RefusesRcptBeforeMailAndDataBeforeRcptWith503) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_THAT(c.send("RCPT TO:<box@example.com>\r\n"), StartsWith("503 5.5.1"));
  EXPECT_THAT(c.send("MAIL FROM:<a@b.test>\r\n"), StartsWith("250 2.1.0"));
  EXPECT_THAT(c.send("DATA\r\n"), StartsWith("503 5.5.1"));
  EXPECT_THAT(c.send("MAIL FROM:<a@b.test>\r\n"), StartsWith("503 5.5.1"));
}

TEST(SmtpProtocol, AnswersDataWith554WhenEveryRecipientWasRejected) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_EQ(c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<nobody@example.com>\r\nDATA\r\n"),
            "250 2.1.0 Ok\r\n550 5.1.1 <nobody@example.com>: no such mailbox here\r\n"
            "554 5.5.1 No valid recipients\r\n");
}

TEST(SmtpProtocol, RsetForgetsTheTransaction) {
  Conversation c;
  c.greet_and_ehlo();
  c.send("MAIL FROM:<a@b.test>\r\n");
  EXPECT_THAT(c.send("RSET\r\n"), StartsWith("250 2.0.0"));
  EXPECT_THAT(c.send("RCPT TO:<box@example.com>\r\n"), StartsWith("503 "));
}

TEST(SmtpProtocol, AnswersNoopVrfyAndHelp) {
  Conversation c;
  EXPECT_THAT(c.send("NOOP\r\n"), StartsWith("250 2.0.0"));
  EXPECT_THAT(c.send("VRFY box\r\n"), StartsWith("252 2.5.0"));
  EXPECT_THAT(c.send("HELP\r\n"), StartsWith("214 2.0.0"));
}

TEST(SmtpProtocol, AnswersUnknownAndUnofferedCommands) {
  Conversation c;
  EXPECT_THAT(c.send("FOO\r\n"), StartsWith("500 5.5.1"));
  EXPECT_THAT(c.send("EXPN list\r\n"), StartsWith("502 5.5.1 EXPN is not implemented"));
  EXPECT_THAT(c.send("MAIL FROM:<a@b.test> FOO=1\r\n"), StartsWith("555 5.5.4"));
}

TEST(SmtpProtocol, QuitSays221AndIgnoresWhatFollows) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_THAT(c.send("QUIT\r\nNOOP\r\n"), AllOf(StartsWith("221 2.0.0"), EndsWith("Bye\r\n")));
  EXPECT_EQ(c.action(), SmtpAction::kClose);
  EXPECT_EQ(c.send("NOOP\r\n"), "");
}

TEST(SmtpProtocol, ClosesWith421AfterTooManyErrors) {
  Conversation c({.max_errors = 3});
  EXPECT_EQ(c.send("X\r\nY\r\nZ\r\nNOOP\r\n"),
            "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
            "500 5.5.1 Command unrecognized\r\n"
            "421 4.7.0 tempmail.local Too many errors, closing connection\r\n");
  EXPECT_EQ(c.action(), SmtpAction::kClose);
}

// --- recipients --------------------------------------------------------------------

TEST(SmtpProtocol, RejectsAnUnknownRecipientWith550AndKeepsTheOthers) {
  Conversation c;
  c.greet_and_ehlo();
  c.send("MAIL FROM:<a@b.test>\r\n");
  EXPECT_THAT(c.send("RCPT TO:<Box@Example.com>\r\n"), StartsWith("250 2.1.5"));
  EXPECT_THAT(c.send("RCPT TO:<nobody@example.com>\r\n"), StartsWith("550 5.1.1"));
  EXPECT_THAT(c.send("RCPT TO:<box@example.com>\r\n"), StartsWith("250 2.1.5"));  // same box
  c.send("DATA\r\n");
  c.send("x\r\n.\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  EXPECT_THAT(c.deliveries()[0].envelope.recipients, ElementsAre("box@example.com"));
}

TEST(SmtpProtocol, Answers452PastTheRecipientLimit) {
  Conversation c({.max_recipients = 1});
  c.greet_and_ehlo();
  c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<box@example.com>\r\n");
  EXPECT_THAT(c.send("RCPT TO:<other@example.com>\r\n"), StartsWith("452 4.5.3"));
}

TEST(SmtpProtocol, Answers451WhenTheRecipientCannotBeChecked) {
  Conversation c;
  c.greet_and_ehlo();
  c.recipients.fail = true;
  c.send("MAIL FROM:<a@b.test>\r\n");
  EXPECT_THAT(c.send("RCPT TO:<box@example.com>\r\n"), StartsWith("451 4.3.0"));
}

// --- DATA and delivery -------------------------------------------------------------

TEST(SmtpProtocol, DeliversTheEnvelopeAndTheTextWithAReceivedHeader) {
  Conversation c({.hostname = "mx.test"});
  c.greet_and_ehlo();
  c.send("MAIL FROM:<Sender@B.test> SMTPUTF8\r\nRCPT TO:<box@example.com>\r\nDATA\r\n");
  EXPECT_EQ(c.send("Subject: hi\r\n\r\nbody\r\n.\r\n"), "250 2.0.0 Ok: queued\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  const SmtpDelivery& delivery = c.deliveries()[0];
  EXPECT_EQ(delivery.envelope.helo, "client.test");
  EXPECT_TRUE(delivery.envelope.esmtp);
  EXPECT_EQ(delivery.envelope.mail_from, "Sender@B.test");
  EXPECT_TRUE(delivery.envelope.smtputf8);
  EXPECT_THAT(delivery.envelope.recipients, ElementsAre("box@example.com"));
  EXPECT_EQ(*delivery.raw,
            "Received: from client.test ([192.0.2.7])\r\n\tby mx.test with UTF8SMTP\r\n"
            "\tfor <box@example.com>; Fri, 04 Dec 2026 03:00:00 +0000\r\n"
            "Subject: hi\r\n\r\nbody\r\n");
}

TEST(SmtpProtocol, NamesNoRecipientInTheReceivedHeaderOfAMessageForSeveral) {
  Conversation c;
  c.greet_and_ehlo();
  c.send("MAIL FROM:<>\r\nRCPT TO:<box@example.com>\r\nRCPT TO:<other@example.com>\r\n");
  c.send("DATA\r\nx\r\n.\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  EXPECT_EQ(c.deliveries()[0].envelope.mail_from, "");
  EXPECT_THAT(*c.deliveries()[0].raw, Not(HasSubstr("for <")));
}

TEST(SmtpProtocol, UnstuffsLeadingDotsAndStoresBareLfLineEndsAsCrLf) {
  Conversation c;
  c.greet_and_ehlo();
  c.start_data();
  c.send("..leading\n...two\r\nplain\n\r\n.\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  EXPECT_THAT(*c.deliveries()[0].raw, EndsWith("\r\n.leading\r\n..two\r\nplain\r\n\r\n"));
}

TEST(SmtpProtocol, EndsAMessageSplitAcrossReadsAtTheFinalDot) {
  Conversation c;
  c.greet_and_ehlo();
  c.start_data();
  EXPECT_EQ(c.send("Subject: x\r\n\r\nbo"), "");
  EXPECT_EQ(c.send("dy\r\n.\r"), "");
  EXPECT_EQ(c.send("\n"), "250 2.0.0 Ok: queued\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  EXPECT_THAT(*c.deliveries()[0].raw, EndsWith("\r\n\r\nbody\r\n"));
}

// SMTP smuggling: only <CRLF>.<CRLF> ends the data; every other way of writing
// the final dot is data, so a second message cannot hide in the first.
class SmtpProtocolDataEnd : public ::testing::TestWithParam<std::string> {};

std::string name_line_ends(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (const char c : info.param)
    name += c == '\r' ? "Cr" : c == '\n' ? "Lf" : c == ' ' ? "Space" : "Dot";
  return name;
}

TEST_P(SmtpProtocolDataEnd, IsDataSoNoSecondMessageIsSmuggled) {
  Conversation c;
  c.greet_and_ehlo();
  c.start_data();
  EXPECT_EQ(c.send("Subject: first\r\n\r\nfirst" + GetParam() +
                   "MAIL FROM:<admin@example.com>\r\nRCPT TO:<other@example.com>\r\nDATA\r\n"
                   "Subject: smuggled\r\n\r\nsecond\r\n.\r\n"),
            "250 2.0.0 Ok: queued\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  EXPECT_THAT(c.deliveries()[0].envelope.recipients, ElementsAre("box@example.com"));
  EXPECT_THAT(*c.deliveries()[0].raw, HasSubstr("Subject: smuggled\r\n\r\nsecond\r\n"));
}

INSTANTIATE_TEST_SUITE_P(BareLfAndBareCr, SmtpProtocolDataEnd,
                         ::testing::Values("\n.\n", "\r\n.\n", "\n.\r\n", "\n.\r", "\r.\r",
                                           "\r\n.\r", "\r.\r\n", "\r.\n", "\r\n.\r\r\n",
                                           "\r\n..\r\n", "\r\n. \r\n"),
                         name_line_ends);

TEST(SmtpProtocol, KeepsADotLineBesideABareLfAsADotLine) {
  Conversation c;
  c.greet_and_ehlo();
  c.start_data();
  c.send("one\n.\ntwo\r\n.\nthree\n.\r\nfour\r\n.\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  EXPECT_THAT(*c.deliveries()[0].raw, EndsWith("one\r\n.\r\ntwo\r\n.\r\nthree\r\n.\r\nfour\r\n"));
}

TEST(SmtpProtocol, KeepsBareCrInDataAsIs) {
  Conversation c;
  c.greet_and_ehlo();
  c.start_data();
  c.send("a\rb\r.\rc\r\r\n.\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  EXPECT_THAT(*c.deliveries()[0].raw, EndsWith("\r\na\rb\r.\rc\r\r\n"));
}

TEST(SmtpProtocol, EndsAnEmptyMessageAtADotRightAfterData) {
  Conversation c;
  c.greet_and_ehlo();
  c.start_data();
  EXPECT_EQ(c.send(".\r\n"), "250 2.0.0 Ok: queued\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  EXPECT_THAT(*c.deliveries()[0].raw, EndsWith(" +0000\r\n"));  // the Received header only
}

TEST(SmtpProtocol, Answers250OnlyOnceTheDeliveryIsDoneAndThenThePipelinedCommands) {
  Conversation c;
  c.hold = true;
  c.greet_and_ehlo();
  c.start_data();
  EXPECT_EQ(c.send("x\r\n.\r\nNOOP\r\n"), "");
  EXPECT_EQ(c.action(), SmtpAction::kDeliver);
  EXPECT_TRUE(c.protocol().delivering());
  EXPECT_EQ(c.send("RSET\r\n"), "");  // still waiting: nothing is answered out of order
  EXPECT_EQ(c.deliver_held(), "250 2.0.0 Ok: queued\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(c.action(), SmtpAction::kRead);
}

TEST(SmtpProtocol, Answers451WhenTheDeliveryFailsAndStaysUsable) {
  Conversation c;
  c.outcome = std::make_error_code(std::errc::io_error);
  c.greet_and_ehlo();
  c.start_data();
  EXPECT_THAT(c.send("x\r\n.\r\n"), StartsWith("451 4.3.0"));
  EXPECT_THAT(c.send("MAIL FROM:<a@b.test>\r\n"), StartsWith("250 2.1.0"));
}

TEST(SmtpProtocol, RejectsMailWhoseDeclaredSizeIsOverTheLimit) {
  Conversation c({.max_message_bytes = 100});
  c.greet_and_ehlo();
  EXPECT_THAT(c.send("MAIL FROM:<a@b.test> SIZE=101\r\n"), StartsWith("552 5.3.4"));
}

TEST(SmtpProtocol, RejectsDataOverTheLimitWith552AfterTheDotAndStaysUsable) {
  Conversation c({.max_message_bytes = 100});
  c.greet_and_ehlo();
  c.start_data();
  EXPECT_EQ(c.send(std::string(60, 'a') + "\r\n" + std::string(60, 'b') + "\r\n"), "");
  EXPECT_THAT(c.send(".\r\n"), StartsWith("552 5.3.4"));
  EXPECT_THAT(c.deliveries(), IsEmpty());
  EXPECT_THAT(c.send("MAIL FROM:<a@b.test>\r\n"), StartsWith("250 2.1.0"));
}

// Found by fuzz_smtp_protocol: the commands after the 552 waited for more input.
TEST(SmtpProtocol, AnswersCommandsPipelinedAfterAnOversizedMessage) {
  Conversation c({.max_message_bytes = 10});
  c.greet_and_ehlo();
  c.start_data();
  EXPECT_EQ(c.send(std::string(20, 'a') + "\r\n.\r\nNOOP\r\n"),
            "552 5.3.4 Message size exceeds fixed maximum message size of 10 bytes\r\n"
            "250 2.0.0 Ok\r\n");
}

TEST(SmtpProtocol, ClosesOnAnOverlongDataLineWithoutKeepingIt) {
  Conversation c({.max_text_line = 100});
  c.greet_and_ehlo();
  c.start_data();
  EXPECT_THAT(c.send(std::string(102, 'x')), StartsWith("500 5.5.6"));  // no room for CRLF
  EXPECT_EQ(c.action(), SmtpAction::kClose);
}

// --- command lines -----------------------------------------------------------------

TEST(SmtpProtocol, RefusesAnOverlongCommandLineAndStaysUsable) {
  Conversation c({.max_command_line = 64});
  EXPECT_THAT(c.send(std::string(100, 'N')), StartsWith("500 5.5.6"));
  EXPECT_EQ(c.send(std::string(100, 'N')), "");  // the rest of the same line: dropped
  EXPECT_EQ(c.send("\r\nNOOP\r\n"), "250 2.0.0 Ok\r\n");
}

TEST(SmtpProtocol, AnswersPipelinedCommandsInOrderInOneGo) {
  Conversation c;
  EXPECT_EQ(c.send("HELO a.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<box@example.com>\r\n"
                   "RCPT TO:<nobody@example.com>\r\nNOOP\r\n"),
            "250 tempmail.local\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
            "550 5.1.1 <nobody@example.com>: no such mailbox here\r\n250 2.0.0 Ok\r\n");
}

TEST(SmtpProtocol, EndsACommandLineAtLfWithOrWithoutCr) {
  Conversation c;
  EXPECT_EQ(c.send("NOOP\nNOOP\r\n"), "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
}

TEST(SmtpProtocol, NeverSplitsACommandLineAtABareCr) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_THAT(c.send("RSET\rMAIL FROM:<a@b.test>\r\n"), StartsWith("500 5.5.1"));
  EXPECT_THAT(c.send("MAIL FROM:<a@b.test>\rRCPT TO:<box@example.com>\r\n"),
              StartsWith("501 5.1.7"));
  EXPECT_THAT(c.send("RCPT TO:<box@example.com>\r\n"), StartsWith("503 5.5.1"));
}

TEST(SmtpProtocol, GivesTheSameAnswersHoweverTheBytesAreSplit) {
  const std::string session =
      "EHLO a.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<box@example.com>\r\nDATA\r\n"
      "Subject: s\r\n\r\n..dot\n.\nend\r\n.\r\nNOOP\nQUIT\r\n";
  Conversation whole;
  const std::string at_once = whole.send(session);
  Conversation split;
  std::string byte_by_byte;
  for (const char c : session) byte_by_byte += split.send(std::string_view(&c, 1));
  EXPECT_EQ(byte_by_byte, at_once);
  ASSERT_EQ(split.deliveries().size(), 1u);
  EXPECT_EQ(*split.deliveries()[0].raw, *whole.deliveries()[0].raw);
}

TEST(SmtpProtocol, CountsALineWithoutItsLineEndWhereverAReadEnds) {
  Conversation c({.max_command_line = 10});
  EXPECT_EQ(c.send("NOOP      \r"), "");  // ten bytes and a CR: not too long yet
  EXPECT_EQ(c.send("\n"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(c.send("NOOP       \r\n"), "500 5.5.6 Line too long\r\n");
}

TEST(SmtpProtocol, CountsAStuffedDotInTheDataLineLimit) {
  Conversation c({.max_text_line = 10});
  c.greet_and_ehlo();
  c.start_data();
  EXPECT_THAT(c.send("." + std::string(10, 'x') + "\r\n"), StartsWith("500 5.5.6"));
  EXPECT_EQ(c.action(), SmtpAction::kClose);
}

// --- AUTH (RFC 4954), any user name and password by default --------------------------

TEST(SmtpProtocol, AcceptsAuthPlainWithAnInitialResponseAndRemembersTheUser) {
  Conversation c({.hostname = "mx.test"});
  c.greet_and_ehlo();
  EXPECT_EQ(c.send("AUTH PLAIN AGFwcABzZWNyZXQ=\r\n"), "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(c.protocol().auth_user(), "app");
  c.start_data();
  c.send("x\r\n.\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  EXPECT_EQ(c.deliveries()[0].envelope.auth_user, "app");
  EXPECT_THAT(*c.deliveries()[0].raw, HasSubstr("with ESMTPA\r\n"));  // RFC 3848
  EXPECT_THAT(*c.deliveries()[0].raw, Not(HasSubstr("secret")));
}

TEST(SmtpProtocol, AsksForThePlainResponseWithAnEmpty334) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_EQ(c.send("AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(c.send("YWRtaW4AYXBwAHNlY3JldA==\r\n"), "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(c.protocol().auth_user(), "app");  // the authentication identity, not authzid
}

TEST(SmtpProtocol, AsksForTheLoginUserAndPasswordWith334Challenges) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_EQ(c.send("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");  // "Username:"
  EXPECT_EQ(c.send("YXBw\r\n"), "334 UGFzc3dvcmQ6\r\n");        // "Password:"
  EXPECT_EQ(c.send("c2VjcmV0\r\n"), "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(c.protocol().auth_user(), "app");
}

TEST(SmtpProtocol, TakesTheLoginUserAsAnInitialResponse) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_EQ(c.send("AUTH LOGIN YXBw\r\n"), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(c.send("c2VjcmV0\r\n"), "235 2.7.0 Authentication successful\r\n");
}

TEST(SmtpProtocol, AcceptsAnEmptyLoginPasswordGivenAsEquals) {
  Conversation c;
  c.greet_and_ehlo();
  c.send("AUTH LOGIN YXBw\r\n");
  EXPECT_THAT(c.send("=\r\n"), StartsWith("235 "));
}

TEST(SmtpProtocol, Answers501WhenTheClientCancelsWithAStar) {
  Conversation c;
  c.greet_and_ehlo();
  c.send("AUTH LOGIN\r\n");
  c.send("YXBw\r\n");
  EXPECT_EQ(c.send("*\r\n"), "501 5.7.0 Authentication cancelled\r\n");
  EXPECT_EQ(c.protocol().auth_user(), std::nullopt);
  EXPECT_THAT(c.send("AUTH PLAIN AGFwcABzZWNyZXQ=\r\n"), StartsWith("235 "));  // may try again
}

TEST(SmtpProtocol, Answers501ToAResponseThatIsNotBase64) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_THAT(c.send("AUTH PLAIN AGFwcABzZWNyZXQ\r\n"), StartsWith("501 5.5.2"));  // no padding
  c.send("AUTH LOGIN\r\n");
  EXPECT_THAT(c.send("YX!w\r\n"), StartsWith("501 5.5.2"));
  EXPECT_THAT(c.send("NOOP\r\n"), StartsWith("250 2.0.0"));  // the exchange is over
}

TEST(SmtpProtocol, Answers501ToAPlainResponseWithoutUserAndPassword) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_THAT(c.send("AUTH PLAIN YXBwAHNlY3JldA==\r\n"), StartsWith("501 5.5.2"));  // one NUL
  EXPECT_THAT(c.send("AUTH PLAIN AGFwcAA=\r\n"), StartsWith("501 5.5.2"));          // no password
}

TEST(SmtpProtocol, AllowsAuthOnlyOncePerSession) {
  Conversation c;
  c.greet_and_ehlo();
  c.send("AUTH PLAIN AGFwcABzZWNyZXQ=\r\n");
  EXPECT_EQ(c.send("AUTH LOGIN\r\n"), "503 5.5.1 Already authenticated\r\n");
  c.send("EHLO again.test\r\n");
  EXPECT_THAT(c.send("AUTH LOGIN\r\n"), StartsWith("503 5.5.1"));
  EXPECT_EQ(c.protocol().auth_user(), "app");
}

TEST(SmtpProtocol, RefusesAuthBeforeEhloAndDuringAMailTransaction) {
  Conversation c;
  EXPECT_THAT(c.send("AUTH PLAIN AGFwcABzZWNyZXQ=\r\n"), StartsWith("503 5.5.1"));
  c.greet_and_ehlo();
  c.send("MAIL FROM:<a@b.test>\r\n");
  EXPECT_THAT(c.send("AUTH PLAIN AGFwcABzZWNyZXQ=\r\n"), StartsWith("503 5.5.1"));
}

TEST(SmtpProtocol, Answers504ToAnUnofferedMechanism) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_THAT(c.send("AUTH CRAM-MD5\r\n"), StartsWith("504 5.5.4"));
}

TEST(SmtpProtocol, LeavesSessionsThatNeverAuthenticateAsTheyWere) {
  Conversation c;
  c.greet_and_ehlo();
  c.start_data();
  c.send("x\r\n.\r\n");
  ASSERT_EQ(c.deliveries().size(), 1u);
  EXPECT_EQ(c.deliveries()[0].envelope.auth_user, std::nullopt);
  EXPECT_THAT(*c.deliveries()[0].raw, HasSubstr("with ESMTP\r\n"));
}

class RefuseAll : public SmtpAuthenticator {
 public:
  bool accepts(std::string_view, std::string_view) override { return false; }
};

TEST(SmtpProtocol, Answers535WhenTheAuthenticatorRefusesAndLetsTheClientTryAgain) {
  SmtpLimits limits;
  FakeRecipients recipients;
  RefuseAll refuse;
  SmtpProtocol protocol(limits, "192.0.2.7", recipients,
                        {.date = fixed_date, .authenticator = &refuse});
  protocol.receive("EHLO a.test\r\nAUTH PLAIN AGFwcABzZWNyZXQ=\r\nAUTH LOGIN\r\n");
  EXPECT_EQ(protocol.advance(), SmtpAction::kRead);
  EXPECT_THAT(protocol.output(), HasSubstr("535 5.7.8 Authentication credentials invalid\r\n"
                                           "334 VXNlcm5hbWU6\r\n"));
  EXPECT_EQ(protocol.auth_user(), std::nullopt);
}

// --- STARTTLS (RFC 3207) and what a session may require, at the protocol level -----------

// The options a test gives; the Conversation helper runs with the defaults.
struct Session {
  explicit Session(SmtpProtocolOptions options)
      : protocol(limits, "192.0.2.7", recipients, options) {}
  std::string send(std::string_view bytes) {
    protocol.receive(bytes);
    action = protocol.advance();
    std::string out;
    out.swap(protocol.output());
    return out;
  }
  SmtpLimits limits;
  FakeRecipients recipients;
  SmtpProtocol protocol;
  SmtpAction action = SmtpAction::kRead;
};

TEST(SmtpProtocol, NeitherOffersNorAcceptsStarttlsByDefault) {
  Conversation c;
  c.greet_and_ehlo();
  EXPECT_EQ(c.send("STARTTLS\r\n"), "502 5.5.1 STARTTLS is not implemented\r\n");
}

TEST(SmtpProtocol, OffersStarttlsWhenAskedAndDropsWhatWasSentAfterIt) {
  Session s({.date = fixed_date, .offer_starttls = true});
  EXPECT_THAT(s.send("EHLO a.test\r\n"), HasSubstr("250-STARTTLS\r\n"));
  // The plaintext-injection attack: commands pipelined after STARTTLS.
  EXPECT_EQ(s.send("STARTTLS\r\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<box@example.com>\r\n"),
            "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(s.action, SmtpAction::kStartTls);
  EXPECT_EQ(s.protocol.buffered(), 0u);
  s.protocol.receive("NOOP\r\n");  // bytes before the handshake are the TLS layer's
  s.protocol.tls_started();
  EXPECT_TRUE(s.protocol.tls());
  EXPECT_THAT(s.send("MAIL FROM:<a@b.test>\r\n"), StartsWith("503 5.5.1"));  // EHLO again
  const std::string ehlo = s.send("EHLO a.test\r\n");
  EXPECT_THAT(ehlo, Not(HasSubstr("STARTTLS")));
  EXPECT_EQ(s.send("STARTTLS\r\n"), "503 5.5.1 TLS is already active\r\n");
  s.send("AUTH PLAIN AGFwcABzZWNyZXQ=\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<box@example.com>\r\n");
  s.send("DATA\r\nx\r\n.\r\n");
  ASSERT_EQ(s.action, SmtpAction::kDeliver);
  const SmtpDelivery delivery = s.protocol.take_delivery();
  EXPECT_TRUE(delivery.envelope.tls);
  EXPECT_EQ(delivery.envelope.mail_from, "a@b.test");
  EXPECT_THAT(*delivery.raw, HasSubstr("with ESMTPSA\r\n"));
}

TEST(SmtpProtocol, ForgetsTheAuthOfBeforeStarttls) {
  Session s({.offer_starttls = true});
  s.send("EHLO a.test\r\nAUTH PLAIN AGFwcABzZWNyZXQ=\r\nSTARTTLS\r\n");
  s.protocol.tls_started();
  EXPECT_EQ(s.protocol.auth_user(), std::nullopt);
}

TEST(SmtpProtocol, RefusesStarttlsBeforeEhloAndInsideATransaction) {
  Session s({.offer_starttls = true});
  EXPECT_THAT(s.send("STARTTLS\r\n"), StartsWith("503 5.5.1"));
  s.send("EHLO a.test\r\nMAIL FROM:<a@b.test>\r\n");
  EXPECT_THAT(s.send("STARTTLS\r\n"), StartsWith("503 5.5.1"));
}

TEST(SmtpProtocol, Answers530ToMailWithoutTlsWhenTlsIsRequired) {
  Session s({.offer_starttls = true, .require_tls = true});
  s.send("EHLO a.test\r\n");
  EXPECT_EQ(s.send("MAIL FROM:<a@b.test>\r\n"),
            "530 5.7.0 Must issue a STARTTLS command first\r\n");
  s.send("STARTTLS\r\n");
  s.protocol.tls_started();
  s.send("EHLO a.test\r\n");
  EXPECT_THAT(s.send("MAIL FROM:<a@b.test>\r\n"), StartsWith("250 2.1.0"));
}

TEST(SmtpProtocol, Answers530ToMailBeforeAuthWhenAuthIsRequired) {
  Session s({.require_auth = true});
  s.send("EHLO a.test\r\n");
  EXPECT_EQ(s.send("MAIL FROM:<a@b.test>\r\n"), "530 5.7.0 Authentication required\r\n");
  s.send("AUTH PLAIN AGFwcABzZWNyZXQ=\r\n");
  EXPECT_THAT(s.send("MAIL FROM:<a@b.test>\r\n"), StartsWith("250 2.1.0"));
}

TEST(SmtpProtocol, SaysEsmtpsForAnImplicitTlsConnection) {
  Session s({.tls = true});
  s.send("EHLO a.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<box@example.com>\r\nDATA\r\nx\r\n.\r\n");
  ASSERT_EQ(s.action, SmtpAction::kDeliver);
  EXPECT_THAT(*s.protocol.take_delivery().raw, HasSubstr("with ESMTPS"));
}

// --- configured credentials and CRAM-MD5 ------------------------------------------------

std::string rfc2195_unique() { return "1896.697170952"; }

SmtpCredentials tim_and_app() {
  SmtpCredentials credentials;
  credentials.add("tim", "tanstaaftanstaaf");
  credentials.add("app", "secret");
  return credentials;
}

TEST(SmtpProtocol, Answers535ToAWrongPairOfConfiguredCredentialsAndAcceptsTheRightOne) {
  SmtpCredentials credentials = tim_and_app();
  Session s({.authenticator = &credentials});
  s.send("EHLO a.test\r\n");
  EXPECT_EQ(s.send("AUTH PLAIN AGFwcABub3Bl\r\n"),  // app / nope
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(s.send("AUTH LOGIN YXBw\r\n=\r\n"),
            "334 UGFzc3dvcmQ6\r\n535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(s.send("AUTH PLAIN AGFwcABzZWNyZXQ=\r\n"), "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(s.protocol.auth_user(), "app");
}

TEST(SmtpProtocol, OffersCramMd5OnlyWhenItKnowsThePasswords) {
  SmtpCredentials credentials = tim_and_app();
  Session with({.authenticator = &credentials});
  EXPECT_THAT(with.send("EHLO a.test\r\n"), HasSubstr("250-AUTH CRAM-MD5 PLAIN LOGIN\r\n"));
  Conversation without;
  without.greet_and_ehlo();
  EXPECT_THAT(without.send("AUTH CRAM-MD5\r\n"), StartsWith("504 5.5.4"));
}

// The example of RFC 2195 section 2, byte for byte.
TEST(SmtpProtocol, AuthenticatesWithCramMd5AsRfc2195Shows) {
  SmtpCredentials credentials = tim_and_app();
  SmtpLimits limits{.hostname = "postoffice.reston.mci.net"};
  FakeRecipients recipients;
  SmtpProtocol protocol(limits, "192.0.2.7", recipients,
                        {.authenticator = &credentials, .challenge = rfc2195_unique});
  protocol.receive("EHLO a.test\r\nAUTH CRAM-MD5\r\n");
  protocol.advance();
  EXPECT_THAT(protocol.output(),
              EndsWith("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"));
  protocol.output().clear();
  protocol.receive("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n");
  protocol.advance();
  EXPECT_EQ(protocol.output(), "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(protocol.auth_user(), "tim");
}

TEST(SmtpProtocol, Answers535ToAWrongCramMd5DigestAnd501ToAnInitialResponse) {
  SmtpCredentials credentials = tim_and_app();
  Session s({.authenticator = &credentials, .challenge = rfc2195_unique});
  s.send("EHLO a.test\r\n");
  EXPECT_THAT(s.send("AUTH CRAM-MD5 dGlt\r\n"), StartsWith("501 5.5.2"));
  EXPECT_THAT(s.send("AUTH CRAM-MD5\r\n"), StartsWith("334 "));
  EXPECT_EQ(s.send("dGltIDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw\r\n"),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(s.protocol.auth_user(), std::nullopt);
}

// --- progress, timeout and stop ------------------------------------------------------

TEST(SmtpProtocol, CountsOnlyWholeLinesAsProgress) {
  Conversation c;
  (void)c.protocol().take_line_progress();
  c.send("NO");
  EXPECT_FALSE(c.protocol().take_line_progress());
  c.send("OP\r\n");
  EXPECT_TRUE(c.protocol().take_line_progress());
  EXPECT_FALSE(c.protocol().take_line_progress());
}

TEST(SmtpProtocol, SaysIdleTimeoutWith421AndCloses) {
  Conversation c;
  c.protocol().time_out();
  EXPECT_THAT(c.run(), StartsWith("421 4.4.2"));
  EXPECT_EQ(c.action(), SmtpAction::kClose);
}

TEST(SmtpProtocol, StopsBetweenCommandsWith421) {
  Conversation c;
  c.greet_and_ehlo();
  c.protocol().request_stop();
  EXPECT_THAT(c.run(), StartsWith("421 4.3.2"));
  EXPECT_EQ(c.action(), SmtpAction::kClose);
}

TEST(SmtpProtocol, FinishesAMessageInDataBeforeStopping) {
  Conversation c;
  c.greet_and_ehlo();
  c.start_data();
  c.protocol().request_stop();
  EXPECT_FALSE(c.protocol().between_commands());
  EXPECT_EQ(c.send("x\r\n.\r\nNOOP\r\n"),
            "250 2.0.0 Ok: queued\r\n421 4.3.2 tempmail.local Service shutting down, try again "
            "later\r\n");
  EXPECT_EQ(c.deliveries().size(), 1u);
}

}  // namespace
}  // namespace tempmail::local::detail
