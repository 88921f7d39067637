/// @file mailbox_test.hpp
/// A fixture that gives every test a fresh mailbox and deletes it afterwards,
/// and a Mailbox whose `wait_for` takes GoogleMock matchers.
///
///   class SignupTest : public tempmail::gtest::MailboxTest {};
///   TEST_F(SignupTest, SendsAVerificationCode) {
///     app.signup(mailbox().address());
///     auto msg = mailbox().wait_for(AllOf(FromAddress(EndsWith("@myapp.test")),
///                                         HasSubject(HasSubstr("Verify"))), 30s);
///     EXPECT_THAT(msg, HasOtp());
///   }
///
/// On a failed test the fixture records the address as the test property
/// `tempmail_mailbox`, writes every message the mailbox received to
/// `$TEMPMAIL_ARTIFACTS_DIR/<suite>.<test>/`, and with `TEMPMAIL_KEEP_ON_FAILURE=1`
/// keeps the mailbox and prints its address instead of deleting it.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "tempmail/gtest/environment.hpp"
#include "tempmail/gtest/matchers.hpp"
#include "tempmail/mailbox.hpp"

namespace tempmail::gtest {

/// Turns a GoogleMock matcher over `Message` into a predicate whose
/// description and explanations are GoogleMock's.
template <class M>
MessagePredicate predicate_from_matcher(const M& matcher) {
  ::testing::Matcher<const Message&> m = ::testing::SafeMatcherCast<const Message&>(matcher);
  return MessagePredicate(
      [m](const Message& msg, std::ostream* os) {
        if (os == nullptr) return m.Matches(msg);
        ::testing::StringMatchResultListener listener;
        const bool ok = m.MatchAndExplain(msg, &listener);
        *os << listener.str();
        return ok;
      },
      [m](std::ostream* os) { m.DescribeTo(os); });
}

/// `tempmail::Mailbox` whose waits also take GoogleMock matchers.
class Mailbox : public tempmail::Mailbox {
 public:
  using tempmail::Mailbox::Mailbox;
  using tempmail::Mailbox::wait_for;
  using tempmail::Mailbox::wait_for_count;
  using tempmail::Mailbox::expect_none;
  using tempmail::Mailbox::wait_for_exactly;

  template <class M>
    requires(!std::is_convertible_v<const M&, MessagePredicate>)
  Message wait_for(const M& matcher, std::chrono::milliseconds timeout) {
    return wait_for(predicate_from_matcher(matcher), timeout);
  }
  template <class M>
    requires(!std::is_convertible_v<const M&, MessagePredicate>)
  std::vector<Message> wait_for_count(const M& matcher, std::size_t count,
                                      std::chrono::milliseconds timeout) {
    return wait_for_count(predicate_from_matcher(matcher), count, timeout);
  }
  /// `mailbox().expect_none(HasSubject(HasSubstr("Reset")), 5s);`
  template <class M>
    requires(!std::is_convertible_v<const M&, MessagePredicate>)
  void expect_none(const M& matcher, std::chrono::milliseconds window) {
    expect_none(predicate_from_matcher(matcher), window);
  }
  template <class M>
    requires(!std::is_convertible_v<const M&, MessagePredicate>)
  std::vector<Message> wait_for_exactly(const M& matcher, std::size_t count,
                                        std::chrono::milliseconds timeout,
                                        std::chrono::milliseconds settle = kDefaultSettle) {
    return wait_for_exactly(predicate_from_matcher(matcher), count, timeout, settle);
  }
};

/// One fresh mailbox per test, from `Environment::get()`.
class MailboxTest : public ::testing::Test {
 protected:
  /// Options for the mailbox of each test; override to choose a user name.
  virtual MailboxOptions mailbox_options() const { return {}; }

  void SetUp() override;
  void TearDown() override;

  /// This test's mailbox.
  Mailbox& mailbox() { return *mailbox_; }
  Environment& environment() { return Environment::get(); }

 private:
  void save_artifacts(const std::filesystem::path& dir);
  std::optional<Mailbox> mailbox_;
};

}  // namespace tempmail::gtest
