#include "client/retry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tempmail::detail {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const RetryPolicy kPolicy{.max_attempts = 4,
                          .backoff = {.initial = 100ms, .factor = 2.0, .max = 1s, .jitter = 0.0},
                          .max_elapsed = 10s};

const std::chrono::steady_clock::time_point kStart{std::chrono::hours(1)};
const std::chrono::sys_seconds kWallNow{std::chrono::seconds(1'800'000'000)};

RetryBudget after(int attempts, std::chrono::milliseconds elapsed = 0ms) {
  return {.attempts_made = attempts,
          .first_try = kStart,
          .now = kStart + elapsed,
          .deadline = std::nullopt,
          .wall_now = kWallNow,
          .unit_random = 0.0};
}

Failure status(int code) { return {.kind = FailureKind::kStatus, .status = code}; }

Failure quota_exhausted(std::chrono::seconds retry_in) {
  return {.kind = FailureKind::kStatus, .status = 429, .retry_at = kWallNow + retry_in};
}

TEST(DecideRetry, RetriesAGetAfterA5xxWithBackoff) {
  const RetryDecision first = decide_retry(Method::kGet, status(502), kPolicy, after(1));
  EXPECT_TRUE(first.retry);
  EXPECT_EQ(first.delay, 100ms);
  EXPECT_EQ(decide_retry(Method::kGet, status(503), kPolicy, after(3)).delay, 400ms);
}

TEST(DecideRetry, RetriesADeleteAfterATransportError) {
  EXPECT_TRUE(
      decide_retry(Method::kDelete, {.kind = FailureKind::kTransport}, kPolicy, after(1)).retry);
  EXPECT_TRUE(
      decide_retry(Method::kDelete, {.kind = FailureKind::kTimeout}, kPolicy, after(1)).retry);
}

TEST(DecideRetry, DoesNotRepeatAPostThatMayHaveArrived) {
  const RetryDecision d = decide_retry(Method::kPost, status(503), kPolicy, after(1));
  EXPECT_FALSE(d.retry);
  EXPECT_THAT(d.reason, HasSubstr("POST"));
  EXPECT_FALSE(
      decide_retry(Method::kPost, {.kind = FailureKind::kTransport}, kPolicy, after(1)).retry);
  EXPECT_FALSE(
      decide_retry(Method::kPost, {.kind = FailureKind::kTimeout}, kPolicy, after(1)).retry);
}

TEST(DecideRetry, RepeatsAPostThatNeverLeft) {
  EXPECT_TRUE(decide_retry(Method::kPost, {.kind = FailureKind::kConnect, .request_sent = false},
                           kPolicy, after(1))
                  .retry);
  EXPECT_TRUE(decide_retry(Method::kPost, {.kind = FailureKind::kTimeout, .request_sent = false},
                           kPolicy, after(1))
                  .retry);
}

TEST(DecideRetry, RetriesA429AtItsRetryTimeForAnyMethod) {
  const RetryDecision get = decide_retry(Method::kGet, quota_exhausted(3s), kPolicy, after(1));
  EXPECT_TRUE(get.retry);
  EXPECT_EQ(get.delay, 3s);
  // The server did nothing on a 429, so even a POST may be sent again.
  EXPECT_TRUE(decide_retry(Method::kPost, quota_exhausted(0s), kPolicy, after(1)).retry);
}

TEST(DecideRetry, DoesNotWaitForA429BeyondMaxElapsed) {
  const RetryDecision d = decide_retry(Method::kGet, quota_exhausted(3600s), kPolicy, after(1));
  EXPECT_FALSE(d.retry);
  EXPECT_THAT(d.reason, HasSubstr("max_elapsed"));
}

TEST(DecideRetry, DoesNotWaitForA429BeyondTheCallDeadline) {
  RetryBudget budget = after(1);
  budget.deadline = kStart + 2s;
  const RetryDecision d = decide_retry(Method::kGet, quota_exhausted(5s), kPolicy, budget);
  EXPECT_FALSE(d.retry);
  EXPECT_THAT(d.reason, HasSubstr("deadline"));
  budget.deadline = kStart + 10s;
  EXPECT_TRUE(decide_retry(Method::kGet, quota_exhausted(5s), kPolicy, budget).retry);
}

TEST(DecideRetry, DoesNotRetryA429WithoutARetryTime) {
  EXPECT_FALSE(decide_retry(Method::kGet, status(429), kPolicy, after(1)).retry);
}

TEST(DecideRetry, StopsWhenTheAttemptsAreUsedUp) {
  EXPECT_TRUE(decide_retry(Method::kGet, status(500), kPolicy, after(3)).retry);
  const RetryDecision d = decide_retry(Method::kGet, status(500), kPolicy, after(4));
  EXPECT_FALSE(d.retry);
  EXPECT_THAT(d.reason, HasSubstr("4 attempts"));
  EXPECT_FALSE(decide_retry(Method::kGet, status(500), RetryPolicy::none(), after(1)).retry);
}

TEST(DecideRetry, StopsWhenTheBackoffWouldPassTheBudget) {
  EXPECT_FALSE(decide_retry(Method::kGet, status(500), kPolicy, after(2, 9950ms)).retry);
  RetryBudget budget = after(1);
  budget.deadline = kStart + 50ms;
  EXPECT_FALSE(decide_retry(Method::kGet, status(500), kPolicy, budget).retry);
}

TEST(DecideRetry, NeverRetriesClientErrorsTlsOrDecodeFailures) {
  for (int code : {400, 401, 403, 404, 409, 422})
    EXPECT_FALSE(decide_retry(Method::kGet, status(code), kPolicy, after(1)).retry) << code;
  EXPECT_FALSE(decide_retry(Method::kGet, {.kind = FailureKind::kTls, .request_sent = false},
                            kPolicy, after(1))
                   .retry);
  EXPECT_FALSE(
      decide_retry(Method::kGet, {.kind = FailureKind::kPermanent}, kPolicy, after(1)).retry);
}

TEST(DecideRetry, DoesNotRepeatOnceBytesWentToAStreamThatCannotRewind) {
  const RetryDecision d = decide_retry(
      Method::kGet, {.kind = FailureKind::kTransport, .repeatable = false}, kPolicy, after(1));
  EXPECT_FALSE(d.retry);
  EXPECT_THAT(d.reason, HasSubstr("output stream"));
}

TEST(DecideRetry, AppliesJitterFromTheInjectedRandomValue) {
  RetryPolicy policy = kPolicy;
  policy.backoff.jitter = 0.5;
  RetryBudget budget = after(1);
  budget.unit_random = 1.0;
  EXPECT_EQ(decide_retry(Method::kGet, status(500), policy, budget).delay, 50ms);
}

}  // namespace
}  // namespace tempmail::detail
