/// @file matchers.hpp
/// GoogleMock matchers over `tempmail::Message`, for `EXPECT_THAT` and for
/// `Mailbox::wait_for`. Each takes a matcher (or a value) for the part it looks at:
///
///   EXPECT_THAT(msg, AllOf(HasSubject(HasSubstr("Verify")),
///                          FromAddress(EndsWith("@myapp.test")), HasOtp()));
///   EXPECT_THAT(msg, HasBodyText(ContainsPattern(R"(code is \d{6}$)")));
#pragma once

#include <gmock/gmock.h>

#include <chrono>
#include <ostream>
#include <string>
#include <string_view>

#include "tempmail/message.hpp"
#include "tempmail/pattern.hpp"

namespace tempmail::gtest {
namespace detail {

// One matcher class for every "the message's X matches M" matcher: `Part`
// reads X, `noun` names it ("subject") in descriptions and explanations.
template <class Part>
class MessagePartMatcher {
 public:
  using is_gtest_matcher = void;

  MessagePartMatcher(const char* noun, Part part, ::testing::Matcher<std::string> inner)
      : noun_(noun), part_(part), inner_(std::move(inner)) {}

  bool MatchAndExplain(const Message& m, std::ostream* os) const {
    const std::string value = part_(m);
    ::testing::StringMatchResultListener inner_listener;
    const bool ok = inner_.MatchAndExplain(value, &inner_listener);
    if (os) {
      *os << "whose " << noun_ << " is " << ::testing::PrintToString(value);
      if (!inner_listener.str().empty()) *os << ", " << inner_listener.str();
    }
    return ok;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has " << noun_ << " that ";
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "has " << noun_ << " that ";
    inner_.DescribeNegationTo(os);
  }

 private:
  const char* noun_;
  Part part_;
  ::testing::Matcher<std::string> inner_;
};

template <class Part>
::testing::Matcher<const Message&> part_matcher(const char* noun, Part part,
                                                ::testing::Matcher<std::string> inner) {
  return MessagePartMatcher<Part>(noun, part, std::move(inner));
}

std::string sender_text(const Message& m);

}  // namespace detail

/// A string in which an RE2 pattern (`tempmail::Pattern`: linear time, `^` and
/// `$` at line ends) finds a match, e.g. `HasSubject(ContainsPattern("^Verify"))`.
/// Use it instead of GoogleTest's `ContainsRegex` for patterns and texts from
/// outside the test. Throws PatternError when RE2 cannot compile it.
::testing::Matcher<std::string> ContainsPattern(std::string_view expression);
::testing::Matcher<std::string> ContainsPattern(Pattern pattern);

/// The subject, e.g. `HasSubject(HasSubstr("Verify"))` or `HasSubject("Welcome")`.
inline ::testing::Matcher<const Message&> HasSubject(::testing::Matcher<std::string> m) {
  return detail::part_matcher(
      "subject", [](const Message& x) { return x.subject; }, std::move(m));
}
/// The sender's address ("from_email").
inline ::testing::Matcher<const Message&> FromAddress(::testing::Matcher<std::string> m) {
  return detail::part_matcher(
      "sender address", [](const Message& x) { return x.from_email; }, std::move(m));
}
/// The sender's display name ("from").
inline ::testing::Matcher<const Message&> FromName(::testing::Matcher<std::string> m) {
  return detail::part_matcher(
      "sender name", [](const Message& x) { return x.from_name; }, std::move(m));
}
/// The sender as a person reads it: `"Name" <address>` (or just the address).
inline ::testing::Matcher<const Message&> From(::testing::Matcher<std::string> m) {
  return detail::part_matcher("sender", &detail::sender_text, std::move(m));
}
/// The recipient mailbox ("to").
inline ::testing::Matcher<const Message&> SentTo(::testing::Matcher<std::string> m) {
  return detail::part_matcher(
      "recipient", [](const Message& x) { return x.to; }, std::move(m));
}
/// The raw content: HTML when the message is HTML, else its text.
inline ::testing::Matcher<const Message&> HasContent(::testing::Matcher<std::string> m) {
  return detail::part_matcher(
      "content", [](const Message& x) { return x.content; }, std::move(m));
}
/// The names of the attachments, comma-separated, e.g. `HasAttachment(EndsWith(".pdf"))`
/// matches when at least one attachment's name matches.
::testing::Matcher<const Message&> HasAttachment(
    ::testing::Matcher<std::string> name = ::testing::A<std::string>());
/// The text a person sees in the body (`tempmail::visible_text`): HTML
/// rendered, tags, styles and hidden preheaders left out.
::testing::Matcher<const Message&> HasBodyText(::testing::Matcher<std::string> text);
/// At least one web link (`tempmail::links`) whose URL matches.
::testing::Matcher<const Message&> HasLink(
    ::testing::Matcher<std::string> url = ::testing::A<std::string>());
/// A verification link (`tempmail::verification_link`) whose URL matches.
::testing::Matcher<const Message&> HasVerificationLink(
    ::testing::Matcher<std::string> url = ::testing::A<std::string>());
/// A one-time code (`tempmail::find_otp`) that matches, e.g. `HasOtp(SizeIs(6))`.
/// An ambiguous message (two different strong candidates) has no code; the
/// explanation lists the candidates.
::testing::Matcher<const Message&> HasOtp(
    ::testing::Matcher<std::string> code = ::testing::A<std::string>());
/// Received at or after `t` (the API's one-second resolution: compare with a
/// time taken before the action, floored to seconds).
::testing::Matcher<const Message&> ReceivedAfter(std::chrono::system_clock::time_point t);

}  // namespace tempmail::gtest
