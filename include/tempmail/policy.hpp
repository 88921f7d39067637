/// @file policy.hpp
/// Small value types that say how long to wait between attempts and when to
/// give up. They hold no state: the loop that uses them keeps the attempt count.
///
///   tempmail::ExponentialBackoff backoff{.initial = 250ms, .factor = 2.0, .max = 5s};
///   auto d = backoff.delay(attempt, random_unit);  // attempt 0 -> about 250ms
#pragma once

#include <chrono>

namespace tempmail {

/// Exponential backoff with proportional jitter:
///   delay(n) = min(max, initial * factor^n) * (1 - jitter * u),  u in [0, 1).
/// Jitter only shortens a delay, so the cap is never exceeded.
struct ExponentialBackoff {
  std::chrono::milliseconds initial{250};
  double factor = 2.0;
  std::chrono::milliseconds max{5000};
  double jitter = 0.2;  ///< fraction of each delay that is randomised, in [0, 1]

  /// Throws std::invalid_argument naming the field when a value is out of range.
  void validate() const;
  /// The delay before retry number `attempt` (0-based); `unit_random` in [0, 1).
  [[nodiscard]] std::chrono::milliseconds delay(int attempt, double unit_random) const;

  bool operator==(const ExponentialBackoff&) const = default;
};

/// When the client repeats a failed request. Only requests that are safe to
/// repeat (GET and DELETE) are retried, and only after transient failures:
/// transport errors, 5xx, and 429 whose retry time falls inside the budget.
struct RetryPolicy {
  int max_attempts = 4;  ///< total tries, including the first; 1 disables retries
  ExponentialBackoff backoff{};
  /// Never start a retry whose wait would end later than this after the first
  /// try (a per-call deadline, when given, is also respected).
  std::chrono::milliseconds max_elapsed{30000};

  void validate() const;
  /// A policy that never retries.
  [[nodiscard]] static RetryPolicy none() { return RetryPolicy{.max_attempts = 1}; }

  bool operator==(const RetryPolicy&) const = default;
};

}  // namespace tempmail
