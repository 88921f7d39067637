#include "client/retry.hpp"

namespace tempmail::detail {
namespace {

using std::chrono::milliseconds;

RetryDecision no(std::string reason = {}) { return {false, milliseconds{0}, std::move(reason)}; }

bool is_transient(Method method, const Failure& f) {
  const bool idempotent = method != Method::kPost;
  switch (f.kind) {
    case FailureKind::kConnect:
      return true;
    case FailureKind::kTimeout:
    case FailureKind::kTransport:
      return idempotent || !f.request_sent;
    case FailureKind::kStatus:
      // The quota counters only move on success, so a 429 did nothing.
      if (f.status == 429) return true;
      return idempotent && f.status >= 500 && f.status <= 599;
    case FailureKind::kTls:
    case FailureKind::kPermanent:
      return false;
  }
  return false;
}

}  // namespace

std::string_view method_name(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kPost:
      return "POST";
    case Method::kDelete:
      return "DELETE";
  }
  return "?";
}

RetryDecision decide_retry(Method method, const Failure& failure, const RetryPolicy& policy,
                           const RetryBudget& budget) {
  if (!is_transient(method, failure)) {
    if (is_transient(Method::kGet, failure))
      return no("not retried: a POST is not repeated once it may have reached the server");
    return no();
  }
  if (!failure.repeatable)
    return no("not retried: part of the body was already written to the output stream");
  if (budget.attempts_made >= policy.max_attempts) {
    if (policy.max_attempts <= 1) return no("not retried: the retry policy allows one attempt");
    return no("gave up after " + std::to_string(budget.attempts_made) + " attempts");
  }

  milliseconds delay{0};
  if (failure.kind == FailureKind::kStatus && failure.status == 429) {
    if (!failure.retry_at) return no("not retried: the response did not say when the quota resets");
    delay = std::max(milliseconds{0},
                     std::chrono::duration_cast<milliseconds>(*failure.retry_at - budget.wall_now));
  } else {
    delay = policy.backoff.delay(budget.attempts_made - 1, budget.unit_random);
  }

  const auto resume = budget.now + delay;
  if (resume > budget.first_try + policy.max_elapsed)
    return no("not retried: the wait would exceed the retry policy's max_elapsed");
  if (budget.deadline && resume >= *budget.deadline)
    return no("not retried: the wait would pass the call's deadline");
  return {true, delay, {}};
}

}  // namespace tempmail::detail
