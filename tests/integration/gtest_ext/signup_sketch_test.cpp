// The GoogleTest extension end to end: the fixture's mailbox on the embedded
// local server, mail sent by a real SMTP client (swaks), waits with matchers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <fstream>
#include <sstream>

#include "support/subprocess.hpp"
#include "tempmail/extract.hpp"
#include "tempmail/gtest/mailbox_test.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using tempmail::gtest::FromAddress;
using tempmail::gtest::HasOtp;
using tempmail::gtest::HasSubject;
using tempmail::gtest::HasVerificationLink;

// Where the application's mail goes: the embedded server's SMTP listener, or
// TEMPMAIL_TEST_SMTP (HOST:PORT) when the mailboxes live on another server
// (the secrets test runs this binary against a tempmail-server that way).
std::string smtp_target() {
  if (const char* target = std::getenv("TEMPMAIL_TEST_SMTP"); target != nullptr && *target)
    return target;
  auto& env = tempmail::gtest::Environment::get();
  return env.smtp_host() + ":" + std::to_string(env.smtp_port());
}

// Plays the application under test: sends its email with swaks.
std::vector<std::string> swaks_command(const std::string& to, const std::string& subject,
                                       const std::string& html,
                                       const std::string& from = "noreply@myapp.test") {
  return {"swaks", "--silent", "2", "--server", smtp_target(), "--from", from, "--to", to,
          "--header", "Subject: " + subject, "--header", "From: My App <" + from + ">",
          "--add-header", "MIME-Version: 1.0", "--add-header",
          "Content-Type: text/html; charset=utf-8", "--body", html};
}

void send(const std::string& to, const std::string& subject, const std::string& html,
          const std::string& from = "noreply@myapp.test") {
  auto result = tempmail::test::run_process(swaks_command(to, subject, html, from));
  ASSERT_TRUE(result.ok()) << result.describe();
}

class SignupTest : public tempmail::gtest::MailboxTest {};

TEST_F(SignupTest, SendsAVerificationCode) {
  send(mailbox().address(), "Verify your email",
       "<p>Welcome!</p><p>Your code is <b>482913</b></p>");
  auto msg = mailbox().wait_for(AllOf(FromAddress(EndsWith("@myapp.test")),
                                      HasSubject(HasSubstr("Verify"))),
                                30s);
  EXPECT_THAT(msg, HasOtp());
  EXPECT_EQ(tempmail::otp(msg).value(), "482913");
}

TEST_F(SignupTest, WaitsForMailThatIsSentWhileItWaits) {
  auto sender = tempmail::test::start_process(swaks_command(
      mailbox().address(), "Confirm your account",
      "<a href=\"https://myapp.test/confirm?token=t0k3n\">Confirm my account</a>"));
  auto msg = mailbox().wait_for(HasSubject(HasSubstr("Confirm")), 30s);
  EXPECT_THAT(msg, HasVerificationLink(EndsWith("token=t0k3n")));
  EXPECT_EQ(tempmail::verification_link(msg)->query_param("token"), "t0k3n");
  EXPECT_TRUE(sender.get().ok());
}

TEST_F(SignupTest, ReturnsThePasswordResetAfterTheSignupEmailNotTheSameOneTwice) {
  send(mailbox().address(), "Verify your email", "<p>Code 111111</p>");
  auto first = mailbox().wait_for(tempmail::MessagePredicate::any(), 30s);
  send(mailbox().address(), "Reset your password", "<p>Code 222222</p>");
  auto second = mailbox().wait_for(tempmail::MessagePredicate::any(), 30s);
  EXPECT_NE(first.id, second.id);
  EXPECT_THAT(second, HasSubject("Reset your password"));
}

TEST_F(SignupTest, WaitForCountReturnsSeveralMessagesInArrivalOrder) {
  send(mailbox().address(), "One", "<p>1</p>");
  send(mailbox().address(), "Two", "<p>2</p>");
  auto both = mailbox().wait_for_count(FromAddress(EndsWith("@myapp.test")), 2, 30s);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_NE(both[0].id, both[1].id);
}

TEST_F(SignupTest, ATimedOutWaitSaysWhatArrivedAndWhyItDidNotMatch) {
  send(mailbox().address(), "Weekly deals", "<p>50% off</p>", "news@shop.test");
  mailbox().wait_for(HasSubject("Weekly deals"), 30s);  // it is there
  send(mailbox().address(), "More deals", "<p>60% off</p>", "news@shop.test");
  try {
    (void)mailbox().wait_for(AllOf(FromAddress(EndsWith("@myapp.test")),
                                   HasSubject(HasSubstr("Verify"))),
                             1500ms);
    FAIL() << "expected a WaitTimeout";
  } catch (const tempmail::WaitTimeout& e) {
    const std::string text = e.what();
    EXPECT_THAT(text, HasSubstr("waiting for a message in " + mailbox().address()));
    EXPECT_THAT(text, HasSubstr("(has sender address that ends with \"@myapp.test\") and "
                                "(has subject that has substring \"Verify\")"));
    EXPECT_THAT(text, HasSubstr("2 messages arrived"));
    EXPECT_THAT(text, HasSubstr("(already returned by an earlier wait)"));
    EXPECT_THAT(text, HasSubstr("<news@shop.test>"));
    EXPECT_THAT(text, HasSubstr("subject \"More deals\""));
    EXPECT_THAT(text, HasSubstr("whose sender address is \"news@shop.test\""));
    std::cout << "The failure a user sees:\n" << text << "\n";
  }
}

TEST_F(SignupTest, ExpectNonePassesWhenOnlyOtherMailArrives) {
  send(mailbox().address(), "Welcome aboard", "<p>Hello</p>");
  mailbox().expect_none(HasSubject(HasSubstr("Reset")), 1500ms);
  EXPECT_EQ(mailbox().last_report().matched, 0u);
  EXPECT_EQ(mailbox().seen().size(), 1u);  // it did look at the mailbox
}

TEST_F(SignupTest, ExpectNoneFailsNamingTheMessageThatMustNotHaveCome) {
  send(mailbox().address(), "Reset your password", "<p>Someone asked to reset it</p>");
  try {
    mailbox().expect_none(HasSubject(HasSubstr("Reset")), 10s);
    FAIL() << "expected UnexpectedMessage";
  } catch (const tempmail::UnexpectedMessage& e) {
    const std::string text = e.what();
    EXPECT_THAT(text, HasSubstr("Expected no message in " + mailbox().address() +
                                " that has subject that has substring \"Reset\" within 10.0 s"));
    EXPECT_THAT(text, HasSubstr("but 1 matched"));
    EXPECT_THAT(text, HasSubstr("subject \"Reset your password\"\n     (matched)"));
    EXPECT_LT(e.report().waited, 10s);  // failed when it came, not at the end of the window
  }
}

TEST_F(SignupTest, WaitForExactlyCatchesADuplicateSentRightAfter) {
  send(mailbox().address(), "Verify your email", "<p>Code 111111</p>");
  auto duplicate = tempmail::test::start_process(
      swaks_command(mailbox().address(), "Verify your email", "<p>Code 222222</p>"));
  EXPECT_THROW(mailbox().wait_for_exactly(HasSubject(HasSubstr("Verify")), 1, 30s, 3s),
               tempmail::UnexpectedMessage);
  EXPECT_TRUE(duplicate.get().ok());
  EXPECT_EQ(mailbox().last_report().matched, 2u);
}

TEST_F(SignupTest, WaitForExactlyReturnsTheOneMessageWhenNoOtherFollows) {
  send(mailbox().address(), "Verify your email", "<p>Code 111111</p>");
  send(mailbox().address(), "Welcome", "<p>Glad you are here</p>");
  auto got = mailbox().wait_for_exactly(HasSubject(HasSubstr("Verify")), 1, 30s, 1s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(tempmail::otp(got[0]).value(), "111111");
}

class ChosenAddressTest : public tempmail::gtest::MailboxTest {
 protected:
  tempmail::MailboxOptions mailbox_options() const override {
    return {.username = "signup-" + std::to_string(::getpid())};
  }
};

TEST_F(ChosenAddressTest, GivesTheMailboxTheAddressAskedFor) {
  EXPECT_EQ(mailbox().address(), "signup-" + std::to_string(::getpid()) + "@example.com");
  send(mailbox().address(), "Verify your email", "<p>Code 123456</p>");
  EXPECT_THAT(mailbox().wait_for(HasOtp("123456"), 30s), HasSubject("Verify your email"));
}

TEST(MailboxTestSharding, ShardsOfOneBinaryNeverSeeEachOthersMail) {
  // Two shards of this binary at once, each with its own mailboxes.
  std::vector<std::future<tempmail::test::ProcessResult>> shards;
  for (int i = 0; i < 2; ++i)
    shards.push_back(tempmail::test::start_process(
        {"/proc/self/exe", "--gtest_filter=SignupTest.*"},
        {.environment = {"GTEST_TOTAL_SHARDS=2", "GTEST_SHARD_INDEX=" + std::to_string(i)}}));
  for (auto& shard : shards) {
    auto result = shard.get();
    EXPECT_TRUE(result.ok()) << result.describe();
    EXPECT_THAT(result.out, HasSubstr("[  PASSED  ]"));
  }
}

// Not run on its own: the test below runs it in a child process to check what
// a failing test leaves behind.
TEST_F(SignupTest, DISABLED_FailsOnPurpose) {
  send(mailbox().address(), "Verify your email", "<p>Your code is <b>482913</b></p>");
  ASSERT_FALSE(HasFatalFailure());
  mailbox().wait_for(HasSubject(HasSubstr("Verify")), 30s);
  ADD_FAILURE() << "failing on purpose; mailbox " << mailbox().address();
}

TEST(MailboxTestOnFailure, WritesArtifactsRecordsTheAddressAndCanKeepTheMailbox) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tempmail-artifacts-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto xml = dir / "report.xml";
  auto result = tempmail::test::run_process(
      {"/proc/self/exe", "--gtest_also_run_disabled_tests",
       "--gtest_filter=SignupTest.DISABLED_FailsOnPurpose", "--gtest_output=xml:" + xml.string()},
      {.environment = {"TEMPMAIL_ARTIFACTS_DIR=" + dir.string(), "TEMPMAIL_KEEP_ON_FAILURE=1"}});
  EXPECT_EQ(result.exit_code, 1) << result.describe();
  EXPECT_THAT(result.err, HasSubstr("tempmail: kept mailbox "));

  const auto case_dir = dir / "SignupTest.DISABLED_FailsOnPurpose";
  ASSERT_TRUE(std::filesystem::exists(case_dir / "index.txt")) << result.describe();
  int html = 0, text = 0, json = 0;
  for (const auto& entry : std::filesystem::directory_iterator(case_dir)) {
    html += entry.path().extension() == ".html";
    json += entry.path().extension() == ".json";
    if (entry.path().extension() == ".txt" && entry.path().filename() != "index.txt") {
      ++text;
      std::ifstream t(entry.path());
      std::stringstream visible;
      visible << t.rdbuf();
      EXPECT_EQ(visible.str(), "Your code is 482913");
    }
  }
  EXPECT_EQ(html, 1);
  EXPECT_EQ(text, 1);
  EXPECT_EQ(json, 1);

  std::ifstream in(xml);
  std::stringstream report;
  report << in.rdbuf();
  EXPECT_THAT(report.str(), HasSubstr("<property name=\"tempmail_mailbox\" value=\""));
  std::filesystem::remove_all(dir);
}

}  // namespace
