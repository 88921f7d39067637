// The wait loop against a simulated mailbox and an instant clock: every
// timing claim here is about simulated time, so the tests run in microseconds.
#include "wait/wait_loop.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <optional>

namespace tempmail::detail {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using steady = std::chrono::steady_clock;

constexpr std::string_view kAddress = "box@example.com";

Message make_message(std::string id, std::string subject, std::string from = "app@myapp.test") {
  return Message{.id = std::move(id),
                 .subject = std::move(subject),
                 .from_name = "My App",
                 .from_email = std::move(from),
                 .to = std::string(kAddress),
                 .received_at = std::chrono::sys_seconds{std::chrono::seconds{1'800'000'000}},
                 .content = "<p>hello</p>"};
}

// A mailbox whose messages appear at given simulated times; the clock moves
// only when the loop sleeps.
class SimulatedMailbox : public WaitDriver {
 public:
  void arrive_at(steady::duration when, Message m) { arrivals_.push_back({when, std::move(m)}); }
  /// Makes the next list calls fail with `error` (thrown by the function).
  void fail_next(int times, std::function<void()> error) {
    failures_left_ = times;
    failure_ = std::move(error);
  }

  MessageList list(const std::string& address, const CallOptions& options) override {
    poll_times.push_back(elapsed());
    last_call = options;
    if (failures_left_ > 0) {
      --failures_left_;
      failure_();
    }
    MessageList out{.mailbox = address};
    for (const auto& [when, m] : arrivals_)
      if (when <= elapsed()) out.messages.push_back(m);
    // The API does not define the order: answer newest first to prove it does not matter.
    std::reverse(out.messages.begin(), out.messages.end());
    return out;
  }
  // Holds like the local server: answers with the messages newer than
  // `after_id` as soon as there are any, or empty when `hold` has passed.
  std::optional<MessageList> long_poll(const std::string& address, const std::string& after_id,
                                       std::chrono::milliseconds hold,
                                       const CallOptions& options) override {
    if (!offers_long_poll) return std::nullopt;
    last_call = options;
    long_poll_afters.push_back(after_id);
    poll_times.push_back(elapsed());
    if (failures_left_ > 0) {
      --failures_left_;
      failure_();
    }
    const auto until = elapsed_ + hold - answers_early_by;
    while (true) {
      MessageList out{.mailbox = address};
      bool past_cursor = after_id.empty();
      for (const auto& [when, m] : arrivals_) {
        if (when > elapsed_) break;
        if (past_cursor) out.messages.push_back(m);
        if (m.id == after_id) past_cursor = true;
      }
      if (!past_cursor) throw NotFoundError("404", 404, "no such message", "GET /_local/wait");
      if (!out.messages.empty() || elapsed_ >= until) return out;
      // Jump to the next arrival or the end of the hold.
      auto next = until;
      for (const auto& [when, m] : arrivals_)
        if (when > elapsed_) next = std::min(next, when);
      elapsed_ = next;
    }
  }
  steady::time_point now() override { return start_ + elapsed_; }
  std::chrono::system_clock::time_point system_now() override {
    return std::chrono::system_clock::time_point{std::chrono::seconds{1'800'000'000}} + elapsed_;
  }
  void sleep_until(steady::time_point when) override {
    ASSERT_GE(when, now()) << "the loop asked to sleep into the past";
    elapsed_ = when - start_;
  }
  double random_unit() override { return random; }

  steady::duration elapsed() const { return elapsed_; }

  std::vector<steady::duration> poll_times;
  std::vector<std::string> long_poll_afters;
  std::optional<CallOptions> last_call;
  double random = 0.5;
  bool offers_long_poll = false;
  /// A server (or clock) that ends a hold a little early.
  steady::duration answers_early_by{};

 private:
  steady::time_point start_ = steady::time_point{} + 1000h;
  steady::duration elapsed_{};
  std::vector<std::pair<steady::duration, Message>> arrivals_;
  int failures_left_ = 0;
  std::function<void()> failure_;
};

class WaitLoopTest : public ::testing::Test {
 protected:
  std::vector<Message> wait(const MessagePredicate& p, std::chrono::milliseconds timeout,
                            std::size_t count = 1, WaitOptions options = {}) {
    return wait_loop(box, std::string(kAddress), p, {.count = count, .timeout = timeout}, options,
                     memory, report);
  }
  void expect_none(const MessagePredicate& p, std::chrono::milliseconds window,
                   WaitOptions options = {}) {
    wait_loop(box, std::string(kAddress), p,
              {.count = 0, .timeout = window, .exact = true, .settle = window}, options, memory,
              report);
  }
  std::vector<Message> wait_exactly(const MessagePredicate& p, std::size_t count,
                                    std::chrono::milliseconds timeout,
                                    std::chrono::milliseconds settle) {
    return wait_loop(box, std::string(kAddress), p,
                     {.count = count, .timeout = timeout, .exact = true, .settle = settle}, {},
                     memory, report);
  }

  SimulatedMailbox box;
  std::vector<Message> seen;
  std::vector<std::string> returned;
  std::string cursor;
  WaitMemory memory{.seen = seen, .returned = returned, .cursor = cursor};
  WaitReport report;
};

MessagePredicate subject_is(std::string s) {
  return MessagePredicate([s](const Message& m) { return m.subject == s; },
                          "has subject \"" + s + "\"");
}

TEST_F(WaitLoopTest, ReturnsAMessageAlreadyThereOnTheFirstPoll) {
  box.arrive_at(0s, make_message("a", "Verify your email"));
  auto got = wait(subject_is("Verify your email"), 30s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "a");
  EXPECT_EQ(report.polls, 1);
  EXPECT_EQ(box.elapsed(), 0s);
}

TEST_F(WaitLoopTest, BacksOffExponentiallyBetweenPolls) {
  box.random = 0.0;  // no jitter: delays are exactly 250ms * 1.8^n
  box.arrive_at(2s, make_message("a", "Hi"));
  wait(MessagePredicate::any(), 30s);
  ASSERT_GE(box.poll_times.size(), 4u);
  EXPECT_EQ(box.poll_times[0], 0ms);
  EXPECT_EQ(box.poll_times[1], 250ms);
  EXPECT_EQ(box.poll_times[2], 250ms + 450ms);
  EXPECT_EQ(box.poll_times[3], 250ms + 450ms + 810ms);
}

TEST_F(WaitLoopTest, NeverSleepsPastTheDeadlineAndPollsOnceMoreAtIt) {
  EXPECT_THROW(wait(MessagePredicate::any(), 3s), WaitTimeout);
  EXPECT_EQ(box.elapsed(), 3s);
  EXPECT_EQ(box.poll_times.back(), 3s);
  for (auto t : box.poll_times) EXPECT_LE(t, 3s);
}

TEST_F(WaitLoopTest, FindsAMessageThatArrivesJustBeforeTheDeadline) {
  box.arrive_at(2999ms, make_message("late", "Hi"));
  EXPECT_EQ(wait(MessagePredicate::any(), 3s).at(0).id, "late");
}

TEST_F(WaitLoopTest, ReturnsEachMessageAtMostOnce) {
  box.arrive_at(0s, make_message("signup", "Verify"));
  box.arrive_at(5s, make_message("reset", "Reset your password"));
  EXPECT_EQ(wait(MessagePredicate::any(), 30s).at(0).id, "signup");
  EXPECT_EQ(wait(MessagePredicate::any(), 30s).at(0).id, "reset");
  EXPECT_THROW(wait(MessagePredicate::any(), 1s), WaitTimeout);
}

TEST_F(WaitLoopTest, WaitForCountReturnsMessagesInArrivalOrder) {
  auto first = make_message("one", "1");
  auto second = make_message("two", "2");
  second.received_at = first.received_at + 1s;
  box.arrive_at(1s, first);
  box.arrive_at(4s, second);
  auto got = wait(MessagePredicate::any(), 30s, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, "one");
  EXPECT_EQ(got[1].id, "two");
}

TEST_F(WaitLoopTest, PassesItsDeadlineToTheClientAndDoesNotLetItRetry) {
  box.arrive_at(0s, make_message("a", "Hi"));
  wait(MessagePredicate::any(), 10s);
  ASSERT_TRUE(box.last_call.has_value());
  EXPECT_EQ(box.last_call->retry, RetryPolicy::none());
  ASSERT_TRUE(box.last_call->deadline.has_value());
  EXPECT_EQ(*box.last_call->deadline, box.now() + 10s + kFinalPollGrace);
}

TEST_F(WaitLoopTest, PollCountGrowsWithTheLogarithmOfTheWait) {
  // Worst case for the default policy: jitter shortening every delay fully.
  box.random = 0.999;
  std::vector<int> polls;
  for (auto t : {500ms, 2000ms, 5000ms, 15000ms, 60000ms}) {
    SimulatedMailbox fresh;
    fresh.random = 0.999;
    fresh.arrive_at(t, make_message("m", "Hi"));
    std::vector<Message> s;
    std::vector<std::string> r;
    std::string c;
    WaitMemory mem{.seen = s, .returned = r, .cursor = c};
    WaitReport rep;
    wait_loop(fresh, "box@example.com", MessagePredicate::any(), {.count = 1, .timeout = 120s}, {},
              mem, rep);
    polls.push_back(rep.polls);
  }
  EXPECT_THAT(polls, ElementsAre(::testing::Le(4), ::testing::Le(6), ::testing::Le(8),
                                 ::testing::Le(9), ::testing::Le(12)));
}

TEST_F(WaitLoopTest, RetriesTransientErrorsInsideTheDeadline) {
  box.arrive_at(0s, make_message("a", "Hi"));
  box.fail_next(2, [] { throw ServerError("502 from the gateway", 502, "", "GET /api/messages"); });
  EXPECT_EQ(wait(MessagePredicate::any(), 30s).at(0).id, "a");
  EXPECT_EQ(report.polls, 3);
  EXPECT_EQ(report.errors, 2);
}

TEST_F(WaitLoopTest, SaysTheServerStoppedAnsweringWhenTheLastPollsFailed) {
  box.arrive_at(0s, make_message("a", "Weekly sale"));
  // The first poll answers; then the server is gone for the rest of the wait.
  int calls = 0;
  box.fail_next(1000, [&calls] {
    if (++calls > 1)
      throw TransportError("could not connect to 127.0.0.1:9: Connection refused", 0, "",
                           "GET /api/messages?email={email}");
  });
  try {
    (void)wait(subject_is("Verify"), 10s);
    FAIL() << "expected TransportError";
  } catch (const WaitTimeout& e) {
    FAIL() << "reported as a timeout: " << e.what();
  } catch (const TransportError& e) {
    EXPECT_THAT(e.what(), HasSubstr("The server stopped answering while waiting for a message "
                                    "in box@example.com: the last poll failed"));
    EXPECT_THAT(e.what(), HasSubstr("1 message had arrived, none matched"));
    EXPECT_THAT(e.what(), HasSubstr("Connection refused"));
    EXPECT_EQ(e.endpoint(), "GET /api/messages?email={email}");
  }
  EXPECT_GT(report.errors, 1);
}

TEST_F(WaitLoopTest, KeepsTheTimeoutReportWhenTheServerAnsweredAgainBeforeTheDeadline) {
  box.fail_next(2, [] { throw TransportError("refused", 0, "", "GET /api/messages"); });
  EXPECT_THROW(wait(subject_is("Verify"), 30s), WaitTimeout);
  EXPECT_EQ(report.errors, 2);
}

TEST_F(WaitLoopTest, KeepsTheTypeOfAServerErrorThatLastedToTheDeadline) {
  box.fail_next(1000,
                [] { throw ServerError("502 from the gateway", 502, "", "GET /api/messages"); });
  EXPECT_THROW(wait(subject_is("Verify"), 5s), ServerError);
}

TEST_F(WaitLoopTest, FailsAtOnceOnAnAuthenticationError) {
  box.fail_next(1, [] { throw AuthError("401", 401, "bad key", "GET /api/messages"); });
  EXPECT_THROW(wait(MessagePredicate::any(), 30s), AuthError);
  EXPECT_EQ(box.poll_times.size(), 1u);
}

TEST_F(WaitLoopTest, WaitsForAQuotaResetThatComesBeforeTheDeadline) {
  box.arrive_at(0s, make_message("a", "Hi"));
  const auto reset = std::chrono::sys_seconds{std::chrono::seconds{1'800'000'000 + 5}};
  box.fail_next(1, [&] {
    throw QuotaExceededError("429", "quota", "GET /api/messages", std::nullopt, reset);
  });
  EXPECT_EQ(wait(MessagePredicate::any(), 30s).at(0).id, "a");
  EXPECT_EQ(box.poll_times.at(1), 5s);
}

TEST_F(WaitLoopTest, FailsAtOnceWhenTheQuotaResetsAfterTheDeadline) {
  const auto reset = std::chrono::sys_seconds{std::chrono::seconds{1'800'000'000 + 3600}};
  box.fail_next(1, [&] {
    throw QuotaExceededError("429", "Monthly quota exhausted", "GET /api/messages", std::nullopt,
                             reset);
  });
  try {
    wait(MessagePredicate::any(), 30s);
    FAIL() << "expected QuotaExceededError";
  } catch (const QuotaExceededError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("quota is exhausted"), HasSubstr("box@example.com"),
                                HasSubstr("resets at 2027-01-15T09:00:00+00:00"),
                                HasSubstr("Monthly quota exhausted")));
    EXPECT_EQ(e.retry_at(), reset);
  }
  EXPECT_EQ(box.elapsed(), 0s);
}

TEST_F(WaitLoopTest, TimeoutReportEscapesWhatASenderControls) {
  Message m = make_message("x", "Sale\x1b[2J\r\nFake line");
  m.from_name = "Shop\x07";
  box.arrive_at(0s, m);
  try {
    wait(subject_is("Verify"), 1s);
    FAIL() << "expected WaitTimeout";
  } catch (const WaitTimeout& e) {
    const std::string text = e.what();
    EXPECT_THAT(text, HasSubstr(R"(from "Shop\x07" <app@myapp.test> at )"));
    EXPECT_THAT(text, HasSubstr(R"(subject "Sale\x1b[2J\r\nFake line")"));
    EXPECT_EQ(text.find('\x1b'), std::string::npos);
  }
}

TEST_F(WaitLoopTest, TimeoutReportSaysWhatArrivedAndWhyItDidNotMatch) {
  box.arrive_at(1s, make_message("n", "Weekly newsletter", "news@shop.test"));
  MessagePredicate wants_verify(
      [](const Message& m, std::ostream* why) {
        if (why) *why << "whose subject \"" << m.subject << "\" lacks \"Verify\"";
        return m.subject.find("Verify") != std::string::npos;
      },
      [](std::ostream* os) { *os << "has a subject containing \"Verify\""; });
  try {
    wait(wants_verify, 10s);
    FAIL() << "expected WaitTimeout";
  } catch (const WaitTimeout& e) {
    const std::string text = e.what();
    EXPECT_THAT(text, HasSubstr("Timed out after 10.0 s waiting for a message in "
                                "box@example.com that has a subject containing \"Verify\""));
    EXPECT_THAT(text, HasSubstr(std::to_string(e.report().polls) + " polls"));
    EXPECT_THAT(text, HasSubstr("1 message arrived, none matched:"));
    EXPECT_THAT(text, HasSubstr("1. from \"My App\" <news@shop.test> at "));
    EXPECT_THAT(text, HasSubstr("subject \"Weekly newsletter\""));
    EXPECT_THAT(text, HasSubstr("whose subject \"Weekly newsletter\" lacks \"Verify\""));
    EXPECT_EQ(e.report().seen.size(), 1u);
  }
}

TEST_F(WaitLoopTest, TimeoutReportSaysWhenNothingArrived) {
  try {
    wait(MessagePredicate::any(), 2s);
    FAIL() << "expected WaitTimeout";
  } catch (const WaitTimeout& e) {
    EXPECT_THAT(e.what(), HasSubstr("No message arrived."));
  }
}

TEST_F(WaitLoopTest, TimeoutReportMarksMessagesReturnedBefore) {
  box.arrive_at(0s, make_message("a", "Verify"));
  wait(MessagePredicate::any(), 1s);
  try {
    wait(MessagePredicate::any(), 1s);
    FAIL() << "expected WaitTimeout";
  } catch (const WaitTimeout& e) {
    EXPECT_THAT(e.what(), HasSubstr("all returned by an earlier wait"));
    EXPECT_THAT(e.what(), HasSubstr("(already returned by an earlier wait)"));
  }
}

TEST_F(WaitLoopTest, ReportsProgressAfterEveryPoll) {
  box.random = 0.0;
  box.arrive_at(1s, make_message("a", "Hi"));
  std::vector<WaitProgress> progress;
  WaitOptions options{.on_poll = [&](const WaitProgress& p) { progress.push_back(p); }};
  wait(MessagePredicate::any(), 30s, 1, options);
  ASSERT_EQ(progress.size(), static_cast<std::size_t>(report.polls));
  EXPECT_EQ(progress.front().messages_seen, 0u);
  EXPECT_EQ(progress.back().messages_seen, 1u);
  EXPECT_EQ(progress.back().matched, 1u);
  EXPECT_EQ(progress[1].elapsed, 250ms);
}

class LongPollTest : public WaitLoopTest {
 protected:
  void SetUp() override { box.offers_long_poll = true; }
};

TEST_F(LongPollTest, ReturnsAsSoonAsTheMessageArrivesWithOneCall) {
  box.arrive_at(7300ms, make_message("a", "Verify"));
  auto got = wait(MessagePredicate::any(), 30s);
  EXPECT_EQ(got.at(0).id, "a");
  EXPECT_EQ(box.elapsed(), 7300ms);  // no backoff lag
  EXPECT_EQ(report.polls, 1);
  EXPECT_TRUE(report.long_poll);
}

TEST_F(LongPollTest, SkipsMessagesThatDoNotMatchAndHoldsAgainFromTheNewest) {
  box.arrive_at(1s, make_message("news", "Newsletter"));
  box.arrive_at(4s, make_message("verify", "Verify"));
  auto got = wait(subject_is("Verify"), 30s);
  EXPECT_EQ(got.at(0).id, "verify");
  EXPECT_EQ(box.elapsed(), 4s);
  EXPECT_EQ(report.polls, 2);
  EXPECT_THAT(box.long_poll_afters, ElementsAre("", "news"));
}

TEST_F(LongPollTest, KeepsTheAtMostOnceRuleAcrossWaits) {
  box.arrive_at(0s, make_message("signup", "Verify"));
  box.arrive_at(3s, make_message("reset", "Reset"));
  EXPECT_EQ(wait(MessagePredicate::any(), 30s).at(0).id, "signup");
  EXPECT_EQ(wait(MessagePredicate::any(), 30s).at(0).id, "reset");
  EXPECT_EQ(box.elapsed(), 3s);
}

TEST_F(LongPollTest, TimesOutAtTheDeadlineWithTheSameReport) {
  box.arrive_at(1s, make_message("n", "Newsletter", "news@shop.test"));
  try {
    wait(subject_is("Verify"), 10s);
    FAIL() << "expected WaitTimeout";
  } catch (const WaitTimeout& e) {
    EXPECT_EQ(box.elapsed(), 10s);
    EXPECT_THAT(e.what(), HasSubstr("Timed out after 10.0 s"));
    EXPECT_THAT(e.what(), HasSubstr("(2 long-polls)"));
    EXPECT_THAT(e.what(), HasSubstr("1 message arrived, none matched"));
  }
}

TEST_F(LongPollTest, DoesNotSpinWhenAHoldEndsAFractionOfAMillisecondEarly) {
  box.answers_early_by = std::chrono::microseconds(400);
  EXPECT_THROW(wait(MessagePredicate::any(), 2s), WaitTimeout);
  EXPECT_LE(report.polls, 3);
}

TEST_F(LongPollTest, StartsAgainFromEverythingWhenTheCursorMessageWasDeleted) {
  cursor = "deleted-id";
  box.arrive_at(0s, make_message("a", "Hi"));
  EXPECT_EQ(wait(MessagePredicate::any(), 30s).at(0).id, "a");
  EXPECT_THAT(box.long_poll_afters, ElementsAre("deleted-id", ""));
}

TEST_F(LongPollTest, PollsTheListWhenTheServerHasNoLongPoll) {
  box.offers_long_poll = false;
  box.arrive_at(1s, make_message("a", "Hi"));
  EXPECT_EQ(wait(MessagePredicate::any(), 30s).at(0).id, "a");
  EXPECT_FALSE(report.long_poll);
  EXPECT_GT(report.polls, 1);
}

TEST_F(LongPollTest, CanBeTurnedOff) {
  box.arrive_at(1s, make_message("a", "Hi"));
  wait(MessagePredicate::any(), 30s, 1, WaitOptions{.long_poll = false});
  EXPECT_FALSE(report.long_poll);
  EXPECT_TRUE(box.long_poll_afters.empty());
}

TEST_F(LongPollTest, BacksOffAfterATransientError) {
  box.random = 0.0;
  box.arrive_at(0s, make_message("a", "Hi"));
  box.fail_next(1, [] { throw ServerError("503", 503, "", "GET /_local/wait"); });
  EXPECT_EQ(wait(MessagePredicate::any(), 30s).at(0).id, "a");
  EXPECT_EQ(box.poll_times.at(1), 250ms);
}

// --- negative assertions: expect_none and wait_for_exactly ------------------

TEST_F(WaitLoopTest, ExpectNonePassesAfterWatchingTheWholeWindow) {
  box.arrive_at(1s, make_message("n", "Newsletter"));
  expect_none(subject_is("Reset"), 5s);
  EXPECT_EQ(box.elapsed(), 5s);
  EXPECT_EQ(box.poll_times.back(), 5s);  // one last look at the end of the window
  EXPECT_EQ(report.matched, 0u);
  EXPECT_TRUE(report.exactly);
}

TEST_F(WaitLoopTest, ExpectNoneFailsAtTheFirstPollThatSeesAMatch) {
  box.random = 0.0;
  box.arrive_at(600ms, make_message("r", "Reset", "noreply@app.test"));
  try {
    expect_none(subject_is("Reset"), 30s);
    FAIL() << "expected UnexpectedMessage";
  } catch (const UnexpectedMessage& e) {
    EXPECT_EQ(box.elapsed(), box.poll_times.back());
    EXPECT_LT(box.elapsed(), 2s);  // did not watch out the window
    const std::string text = e.what();
    EXPECT_THAT(text, HasSubstr("Expected no message in box@example.com that has subject "
                                "\"Reset\" within 30.0 s, but 1 matched after"));
    EXPECT_THAT(text, HasSubstr("1. from \"My App\" <noreply@app.test> at "));
    EXPECT_THAT(text, HasSubstr("subject \"Reset\"\n     (matched)"));
    ASSERT_EQ(e.report().seen.size(), 1u);
    EXPECT_TRUE(e.report().seen[0].matched);
  }
}

TEST_F(WaitLoopTest, ExpectNoneListsTheOtherMessagesWithWhyTheyDidNotMatch) {
  box.arrive_at(0s, make_message("w", "Welcome"));
  box.arrive_at(0s, make_message("r", "Reset"));
  try {
    expect_none(subject_is("Reset"), 5s);
    FAIL() << "expected UnexpectedMessage";
  } catch (const UnexpectedMessage& e) {
    EXPECT_THAT(e.what(), HasSubstr("2 messages arrived:"));
    EXPECT_THAT(e.what(), HasSubstr("subject \"Welcome\"\n     which does not match"));
    EXPECT_THAT(e.what(), HasSubstr("subject \"Reset\"\n     (matched)"));
  }
}

TEST_F(WaitLoopTest, ExpectNoneLeavesOutMessagesAnEarlierWaitReturned) {
  box.arrive_at(0s, make_message("signup", "Verify"));
  wait(subject_is("Verify"), 5s);
  EXPECT_NO_THROW(expect_none(subject_is("Verify"), 5s));
  box.arrive_at(7s, make_message("again", "Verify"));
  EXPECT_THROW(expect_none(subject_is("Verify"), 5s), UnexpectedMessage);
}

TEST_F(WaitLoopTest, ExpectNoneCannotPassWhenTheServerStoppedAnswering) {
  box.fail_next(1000, [] { throw TransportError("refused", 0, "", "GET /api/messages"); });
  EXPECT_THROW(expect_none(MessagePredicate::any(), 5s), TransportError);
}

TEST_F(LongPollTest, ExpectNoneHoldsOneLongPollForTheWindow) {
  expect_none(MessagePredicate::any(), 8s);
  EXPECT_EQ(report.polls, 1);
  EXPECT_EQ(box.elapsed(), 8s);
}

TEST_F(LongPollTest, ExpectNoneFailsTheMomentAMatchingMessageIsStored) {
  box.arrive_at(1s, make_message("n", "Newsletter"));
  box.arrive_at(3300ms, make_message("r", "Reset"));
  EXPECT_THROW(expect_none(subject_is("Reset"), 30s), UnexpectedMessage);
  EXPECT_EQ(box.elapsed(), 3300ms);
}

TEST_F(LongPollTest, WaitForExactlyReturnsAfterWatchingTheSettleTime) {
  box.arrive_at(2s, make_message("v", "Verify"));
  box.arrive_at(3s, make_message("n", "Newsletter"));  // does not match: not a duplicate
  const auto got = wait_exactly(subject_is("Verify"), 1, 30s, 2s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "v");
  EXPECT_EQ(box.elapsed(), 4s);  // arrived at 2 s, watched 2 s more
  EXPECT_THAT(returned, ElementsAre("v"));
}

TEST_F(LongPollTest, WaitForExactlyCatchesADuplicateInsideTheSettleTime) {
  box.arrive_at(2s, make_message("v1", "Verify"));
  box.arrive_at(3500ms, make_message("v2", "Verify"));
  try {
    wait_exactly(subject_is("Verify"), 1, 30s, 2s);
    FAIL() << "expected UnexpectedMessage";
  } catch (const UnexpectedMessage& e) {
    EXPECT_EQ(box.elapsed(), 3500ms);
    EXPECT_THAT(e.what(), HasSubstr("Expected exactly 1 message in box@example.com that has "
                                    "subject \"Verify\" (and no more for 2.0 s after), but 2 "
                                    "matched after 3.5 s"));
    EXPECT_TRUE(returned.empty());  // a failed wait returns nothing
  }
}

TEST_F(WaitLoopTest, WaitForExactlyFailsAtOnceWhenTooManyAreThereAlready) {
  for (const char* id : {"a", "b", "c"}) box.arrive_at(0s, make_message(id, "Code"));
  EXPECT_THROW(wait_exactly(subject_is("Code"), 2, 30s, 2s), UnexpectedMessage);
  EXPECT_EQ(box.elapsed(), 0s);
  EXPECT_EQ(report.matched, 3u);
}

TEST_F(WaitLoopTest, WaitForExactlyTimesOutLikeAWaitWhenTooFewArrive) {
  box.arrive_at(1s, make_message("a", "Code"));
  try {
    wait_exactly(subject_is("Code"), 2, 10s, 2s);
    FAIL() << "expected WaitTimeout";
  } catch (const WaitTimeout& e) {
    EXPECT_EQ(box.elapsed(), 10s);
    EXPECT_THAT(e.what(), HasSubstr("waiting for exactly 2 messages in box@example.com"));
    EXPECT_THAT(e.what(), HasSubstr("1 of 2 matched."));
    EXPECT_THAT(e.what(), HasSubstr("subject \"Code\"\n     (matched)"));
  }
}

TEST_F(WaitLoopTest, WaitForExactlyDoesNotSeeADuplicateAfterTheSettleTime) {
  box.arrive_at(0s, make_message("a", "Code"));
  box.arrive_at(10s, make_message("b", "Code"));
  EXPECT_EQ(wait_exactly(subject_is("Code"), 1, 30s, 3s).at(0).id, "a");
  EXPECT_EQ(box.elapsed(), 3s);
}

TEST_F(WaitLoopTest, RefusesANegativeSettleTime) {
  EXPECT_THROW(wait_exactly(MessagePredicate::any(), 1, 1s, -1ms), std::invalid_argument);
}

TEST(MessagePredicate, WrapsAPlainCallableWithADescription) {
  MessagePredicate p([](const Message& m) { return m.html; }, "is HTML");
  EXPECT_TRUE(p.matches(Message{.html = true}));
  EXPECT_FALSE(p.matches(Message{.html = false}));
  EXPECT_EQ(p.description(), "is HTML");
  EXPECT_EQ(p.explain(Message{}), "");
}

}  // namespace
}  // namespace tempmail::detail
