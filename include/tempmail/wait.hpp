/// @file wait.hpp
/// Waiting for a message: a predicate with words for failure output, the
/// backoff the wait polls with, and the report a timed-out wait throws.
///
///   using tempmail::subject_matches, tempmail::body_matches;
///   tempmail::Message m = mailbox.wait_for(
///       subject_matches("^Verify") && body_matches(R"(code is \d{6}$)"), 30s);
///   tempmail::Message n = mailbox.wait_for(
///       [](const tempmail::Message& m) { return m.subject.starts_with("Verify"); }, 30s);
///   // Throws UnexpectedMessage, naming it, when one arrives within 5 s:
///   mailbox.expect_none(subject_matches("(?i)password reset"), 5s);
///
/// GoogleMock matchers work too, through `tempmail/gtest/mailbox_test.hpp`.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tempmail/errors.hpp"
#include "tempmail/message.hpp"
#include "tempmail/pattern.hpp"
#include "tempmail/policy.hpp"

namespace tempmail {

/// A condition a message must meet, with a description ("has subject
/// containing \"Verify\"") and, for a message that fails it, an explanation.
/// Copyable; the functions it holds must be pure.
class MessagePredicate {
 public:
  /// Returns whether the message matches; may write why (or why not) to `explain`
  /// (which may be null).
  using MatchFunction = std::function<bool(const Message&, std::ostream* explain)>;
  /// Writes a verb phrase describing what matches.
  using DescribeFunction = std::function<void(std::ostream*)>;

  MessagePredicate(MatchFunction match, DescribeFunction describe);

  /// Any callable `bool(const Message&)`, described by `description`.
  template <class F>
  requires(std::is_invocable_r_v<bool, const F&, const Message&> &&
           !std::is_same_v<std::remove_cvref_t<F>, MessagePredicate> &&
           !std::is_same_v<std::remove_cvref_t<F>, MatchFunction>)
      MessagePredicate(F predicate, std::string description = "satisfies the given predicate")
      : MessagePredicate([p = std::move(predicate)](
                             const Message& m, std::ostream*) { return static_cast<bool>(p(m)); },
                         [d = std::move(description)](std::ostream* os) { describe_text(os, d); }) {
  }

  /// Every message.
  [[nodiscard]] static MessagePredicate any();

  [[nodiscard]] bool matches(const Message& message, std::ostream* explain = nullptr) const;
  /// The explanation for `message`, empty when the predicate gives none.
  [[nodiscard]] std::string explain(const Message& message) const;
  [[nodiscard]] std::string description() const;

 private:
  static void describe_text(std::ostream* os, const std::string& text);
  MatchFunction match_;
  DescribeFunction describe_;
};

/// Both hold. Described "A and B"; a message is explained by each predicate
/// it fails ("whose subject ... does not match /x/, and whose body ...").
[[nodiscard]] MessagePredicate operator&&(const MessagePredicate& a, const MessagePredicate& b);

/// The subject contains a match of `pattern` (RE2 syntax, see pattern.hpp).
/// A message that fails is explained as `whose subject "Sale" does not match /^Verify/`.
[[nodiscard]] MessagePredicate subject_matches(Pattern pattern);
/// The sender contains a match, read both as "user@host" and as "Name <user@host>".
[[nodiscard]] MessagePredicate sender_matches(Pattern pattern);
/// The text a person sees in the body (`visible_text(message)`: HTML rendered,
/// hidden parts left out, CRLF as LF) contains a match. The explanation shows
/// that text, escaped (a trailing newline is `\n`), shortened in the middle,
/// and its length.
[[nodiscard]] MessagePredicate body_matches(Pattern pattern);
/// The same, compiling `expression` (throws PatternError when RE2 cannot).
[[nodiscard]] MessagePredicate subject_matches(std::string_view expression);
[[nodiscard]] MessagePredicate sender_matches(std::string_view expression);
[[nodiscard]] MessagePredicate body_matches(std::string_view expression);

/// The default backoff of a wait: the number of list calls grows with the
/// logarithm of the time the message takes (at most 12 calls for 60 s), the
/// first poll is immediate and the next follows after about 250 ms.
inline constexpr ExponentialBackoff kDefaultWaitBackoff{.initial = std::chrono::milliseconds(250),
                                                        .factor = 1.8,
                                                        .max = std::chrono::milliseconds(20000),
                                                        .jitter = 0.2};

/// How long `Mailbox::wait_for_exactly` keeps watching after the messages it
/// waits for arrived, so that a duplicate sent right after them is caught.
inline constexpr std::chrono::milliseconds kDefaultSettle{2000};

/// Where a wait stands, after each poll.
struct WaitProgress {
  std::chrono::milliseconds elapsed{0};
  int polls = 0;
  std::size_t messages_seen = 0;  ///< in the mailbox, including ones returned before
  std::size_t matched = 0;
};

/// How a wait polls.
struct WaitOptions {
  ExponentialBackoff backoff = kDefaultWaitBackoff;
  /// Use the server's long-poll when it offers one (the local server does):
  /// the wait then costs one call and returns as soon as the message is
  /// stored. The hosted service has none; there the wait polls with `backoff`.
  bool long_poll = true;
  /// Called after every poll (e.g. to show progress); must not throw.
  std::function<void(const WaitProgress&)> on_poll{};
};

/// What a wait did: for failure output and to count its cost.
struct WaitReport {
  /// A message the wait saw and did not return.
  struct Seen {
    Message message;
    bool returned_before = false;  ///< an earlier wait on the same Mailbox returned it
    bool matched = false;          ///< it matched (a wait for several, or an unexpected one)
    /// The predicate's explanation: why it did not match, or for a matched
    /// message what matched; may be empty.
    std::string why_not;
  };

  std::string mailbox;
  std::string wanted;            ///< the predicate's description
  std::size_t wanted_count = 1;  ///< how many matching messages were asked for
  std::size_t matched = 0;       ///< how many were found (all of them on success)
  /// `expect_none` or `wait_for_exactly`: more than `wanted_count` is a failure.
  bool exactly = false;
  std::chrono::milliseconds timeout{0};
  /// With `exactly`: how long the wait watched on once `wanted_count` matched
  /// (for `expect_none`, the whole window).
  std::chrono::milliseconds settle{0};
  std::chrono::milliseconds waited{0};
  int polls = 0;           ///< API calls made (list calls, or long-polls)
  bool long_poll = false;  ///< the wait used the server's long-poll
  int errors = 0;          ///< polls that failed with a transient error and were retried
  std::string last_error;  ///< what the last failed poll said
  std::vector<Seen> seen;

  /// A multi-line account, e.g.
  ///   Timed out after 30.0 s waiting for a message in box@example.com that
  ///   has subject containing "Verify" (7 polls). 2 messages arrived, none matched:
  ///     1. from "Shop" <news@shop.test> at 2026-06-28 09:39:08, subject "Sale"
  ///        which has subject "Sale"
  /// and, when more messages matched than an exact wait allowed,
  ///   Expected no message in box@example.com that has subject containing
  ///   "Reset" within 5.0 s, but 1 matched after 1.2 s (2 long-polls):
  ///     1. from "Shop" <news@shop.test> at 2026-06-28 09:39:08, subject "Reset"
  ///        (matched)
  [[nodiscard]] std::string to_string() const;
};

/// A wait ran out of time. `what()` is the whole report.
class WaitTimeout : public Error {
 public:
  explicit WaitTimeout(WaitReport report);
  [[nodiscard]] const WaitReport& report() const noexcept { return report_; }

 private:
  WaitReport report_;
};

/// A message arrived that the test said must not (`Mailbox::expect_none`), or
/// more than the expected number did (`Mailbox::wait_for_exactly`). `what()`
/// is the whole report, listing the messages that matched.
class UnexpectedMessage : public Error {
 public:
  explicit UnexpectedMessage(WaitReport report);
  [[nodiscard]] const WaitReport& report() const noexcept { return report_; }

 private:
  WaitReport report_;
};

}  // namespace tempmail
