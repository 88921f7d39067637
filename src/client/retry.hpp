// When a failed request is tried again: a pure function of what failed, the
// policy and the time budget, so it is unit-tested without sockets or sleeps.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "tempmail/policy.hpp"

namespace tempmail::detail {

enum class Method { kGet, kPost, kDelete };

std::string_view method_name(Method method);

enum class FailureKind {
  kConnect,    ///< resolve or connect failed: the request was never sent
  kTls,        ///< TLS handshake failed: certificate or protocol, not transient
  kTimeout,    ///< a connect or request timeout ran out
  kTransport,  ///< the connection broke or the response was not HTTP
  kStatus,     ///< a complete response with a non-2xx status
  kPermanent,  ///< decode error, response too large: repeating cannot help
};

struct Failure {
  FailureKind kind = FailureKind::kPermanent;
  int status = 0;  ///< for kStatus
  /// False only when the request certainly did not reach the server.
  bool request_sent = true;
  /// For 429: when the server says a new request may succeed.
  std::optional<std::chrono::sys_seconds> retry_at;
  /// False once part of the body went to a destination that cannot be rewound.
  bool repeatable = true;
};

struct RetryBudget {
  int attempts_made = 1;  ///< tries so far, including the one that just failed
  std::chrono::steady_clock::time_point first_try{};
  std::chrono::steady_clock::time_point now{};
  std::optional<std::chrono::steady_clock::time_point> deadline;  ///< CallOptions::deadline
  std::chrono::sys_seconds wall_now{};  ///< to turn a 429's retry time into a wait
  double unit_random = 0.0;             ///< jitter, in [0, 1)
};

struct RetryDecision {
  bool retry = false;
  std::chrono::milliseconds delay{0};  ///< wait this long first (when retrying)
  /// When not retrying a transient failure: why, for the error message.
  std::string reason;
};

/// Retries transient failures only (connect and transport errors, timeouts,
/// 5xx, 429 with a known retry time) and only when repeating is safe: GET
/// and DELETE always; POST only when the request never left (connect
/// failure) or the server refused it outright (429). A retry is not started
/// when the attempts are used up or its wait would end after
/// `first_try + policy.max_elapsed` or at/after the deadline.
RetryDecision decide_retry(Method method, const Failure& failure, const RetryPolicy& policy,
                           const RetryBudget& budget);

}  // namespace tempmail::detail
