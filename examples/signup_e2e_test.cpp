// End to end: "My App" (examples/signup_app), a web application with an
// email-verification signup, sends real email over SMTP. Each test signs up
// with a fresh mailbox, waits for the email, and finishes the verification the
// way a person would -- by following the link or by typing the code -- then
// asks the app whether the account is verified.
//
// With no set-up it runs on the local server embedded in this binary. With
// TEMPMAIL_API_KEY set the mailboxes are on the hosted service: see SetUp().
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <regex>
#include <string>

#include "http_client.hpp"
#include "signup_app.hpp"
#include "tempmail/extract.hpp"
#include "tempmail/gtest/mailbox_test.hpp"

namespace {

using namespace std::chrono_literals;
using tempmail::gtest::FromAddress;
using tempmail::gtest::HasSubject;
using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

// Narration for the demo (scripts/run-demo): what the test does, as it does it.
void say(const std::string& line) { std::cout << "    > " << line << std::endl; }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

class SignupFlow : public tempmail::gtest::MailboxTest {
 protected:
  void SetUp() override {
    // The hosted service takes mail only from the internet (its MX), so the app
    // needs a relay that delivers there. The test follows the links itself, so
    // the app does not have to be reachable from the internet.
    const std::string relay = env("TEMPMAIL_SIGNUP_APP_SMTP");
    if (!env("TEMPMAIL_API_KEY").empty() && relay.empty())
      GTEST_SKIP() << "TEMPMAIL_API_KEY is set, so the mailboxes are on the hosted service, "
                      "which receives mail from the internet only; set "
                      "TEMPMAIL_SIGNUP_APP_SMTP=HOST:PORT to an SMTP relay that delivers to "
                      "the internet to run this test there, or unset TEMPMAIL_API_KEY to run "
                      "it on the local server";
    MailboxTest::SetUp();

    signup::SignupAppOptions options;
    if (relay.empty()) {
      options.smtp_host = environment().smtp_host();
      options.smtp_port = environment().smtp_port();
    } else {
      const auto colon = relay.rfind(':');
      ASSERT_NE(colon, std::string::npos) << "TEMPMAIL_SIGNUP_APP_SMTP must be HOST:PORT";
      options.smtp_host = relay.substr(0, colon);
      options.smtp_port = static_cast<std::uint16_t>(std::stoi(relay.substr(colon + 1)));
    }
    app_.emplace(std::move(options));
    app_->start();
  }

  void TearDown() override {
    app_.reset();
    MailboxTest::TearDown();
  }

  // What the user does in the browser, over HTTP.
  examples::HttpResponse sign_up() {
    auto r = examples::http_post(app_->url() + "/signup",
                                 examples::form({{"email", mailbox().address()}}));
    if (r.status == 202) say("signed up " + mailbox().address() + " at " + app_->url());
    return r;
  }
  examples::HttpResponse enter_code(const std::string& code) {
    return examples::http_post(app_->url() + "/verify-code",
                               examples::form({{"email", mailbox().address()}, {"code", code}}));
  }
  // What the app says about the account: {"email":..., "verified":..., "verified_by":...}.
  boost::json::object account() {
    const auto r = examples::http_get(app_->url() + "/account?email=" + mailbox().address());
    EXPECT_EQ(r.status, 200) << r.body;
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    if (ec || !v.is_object()) {
      ADD_FAILURE() << "GET /account did not answer a JSON object: " << r.body;
      return {};
    }
    return v.as_object();
  }
  bool account_verified() {
    const auto a = account();
    return a.contains("verified") && a.at("verified") == true;
  }
  void expect_verified_by(const char* how) {
    const auto a = account();
    EXPECT_TRUE(a.contains("verified") && a.at("verified") == true) << boost::json::serialize(a);
    EXPECT_TRUE(a.contains("verified_by") && a.at("verified_by") == how)
        << boost::json::serialize(a);
    say("account verified");
  }

  tempmail::Message wait_for_verification_email() {
    tempmail::Message msg = mailbox().wait_for(
        AllOf(FromAddress(EndsWith("@myapp.test")), HasSubject(HasSubstr("Verify"))), 30s);
    say("received \"" + msg.subject + "\" from " + msg.from_name + " <" + msg.from_email + ">");
    return msg;
  }

  std::optional<signup::SignupApp> app_;
};

TEST_F(SignupFlow, VerifiesTheAccountThroughTheEmailedLink) {
  const auto signed_up = sign_up();
  ASSERT_EQ(signed_up.status, 202) << signed_up.body;

  const tempmail::Message msg = wait_for_verification_email();
  const std::optional<tempmail::Link> link = tempmail::verification_link(msg);
  ASSERT_TRUE(link.has_value()) << "no verification link among the links of:\n"
                                << ::testing::PrintToString(tempmail::rank_links(msg));
  // The email also links to the home page (the logo), help, privacy, terms,
  // social networks and unsubscribe: the link found must be the verify link.
  EXPECT_THAT(link->url, StartsWith(app_->public_url() + "/verify?token="));
  EXPECT_THAT(link->url, Not(HasSubstr("unsubscribe")));
  say("verification link (picked from the " + std::to_string(tempmail::links(msg).web.size()) +
      " links in the email): " + link->url);
  EXPECT_FALSE(account_verified()) << "verified before the link was followed";

  const auto page = examples::http_get(link->url);
  EXPECT_EQ(page.status, 200) << page.body;
  expect_verified_by("link");
}

TEST_F(SignupFlow, VerifiesTheAccountWithTheEmailedCode) {
  const auto signed_up = sign_up();
  ASSERT_EQ(signed_up.status, 202) << signed_up.body;

  const tempmail::Message msg = wait_for_verification_email();
  // The footer carries a reference number and the year: numbers that are not the code.
  const std::string text = tempmail::visible_text(msg);
  std::smatch reference;
  ASSERT_TRUE(std::regex_search(text, reference, std::regex("Reference #([0-9]+)"))) << text;
  const std::chrono::year_month_day sent{std::chrono::floor<std::chrono::days>(msg.received_at)};
  const std::string year = std::to_string(static_cast<int>(sent.year()));
  ASSERT_THAT(text, HasSubstr("\xC2\xA9 " + year + " My App"));  // "(c) 2026 My App"

  ASSERT_TRUE(tempmail::otp(msg).has_value()) << ::testing::PrintToString(tempmail::find_otp(msg));
  const std::string code = tempmail::otp(msg).value();
  EXPECT_THAT(code, MatchesRegex("[0-9]{6}"));
  EXPECT_NE(code, reference[1].str());
  EXPECT_NE(code, year);
  say("code " + code + " (not the reference number " + reference[1].str() + ", not the year " +
      year + ")");

  const auto entered = enter_code(code);
  EXPECT_EQ(entered.status, 200) << entered.body;
  expect_verified_by("code");
}

TEST_F(SignupFlow, RejectsAWrongCode) {
  const auto signed_up = sign_up();
  ASSERT_EQ(signed_up.status, 202) << signed_up.body;
  const std::string code = tempmail::otp(wait_for_verification_email()).value();

  std::string wrong = code;
  wrong.back() = wrong.back() == '9' ? '0' : static_cast<char>(wrong.back() + 1);
  const auto entered = enter_code(wrong);
  EXPECT_EQ(entered.status, 400) << entered.body;
  EXPECT_FALSE(account_verified());
  say("wrong code " + wrong + " rejected, the account is still unverified");
}

TEST_F(SignupFlow, ASecondSignupSendsANewLinkAndTheFirstOneStopsWorking) {
  ASSERT_EQ(sign_up().status, 202);
  const tempmail::Message first = wait_for_verification_email();
  ASSERT_EQ(sign_up().status, 202);
  // wait_for never returns the same message twice: this is the second email.
  const tempmail::Message second = wait_for_verification_email();
  ASSERT_NE(first.id, second.id);

  const auto old_link = tempmail::verification_link(first);
  const auto new_link = tempmail::verification_link(second);
  ASSERT_TRUE(old_link && new_link);
  EXPECT_NE(old_link->url, new_link->url);
  EXPECT_EQ(examples::http_get(old_link->url).status, 400);
  EXPECT_FALSE(account_verified());
  EXPECT_EQ(examples::http_get(new_link->url).status, 200);
  EXPECT_TRUE(account_verified());
  say("the first link was refused, the second one verified the account");
}

}  // namespace
