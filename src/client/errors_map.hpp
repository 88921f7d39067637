// From a response (or its absence) to the typed exception the caller sees,
// and the quota headers every response carries. Pure functions: unit-tested
// without sockets.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "client/transport.hpp"
#include "tempmail/errors.hpp"
#include "tempmail/quota.hpp"

namespace tempmail::detail {

/// X-RateLimit-Limit/Used/Remaining (integers, all three required) and
/// X-RateLimit-Reset (ISO 8601; left empty when unreadable).
std::optional<Quota> parse_quota(const HttpResponse& response);

/// When a 429 may be retried: Retry-After (seconds or HTTP date) when
/// present and readable, else the quota's reset time.
std::optional<std::chrono::sys_seconds> quota_retry_at(const HttpResponse& response,
                                                       const std::optional<Quota>& quota,
                                                       std::chrono::sys_seconds now);

/// What the caller needs to build an error: the endpoint template, why it
/// was not retried (may be empty) and the key to screen out of the server's
/// message (the error's own words never contain it).
struct ErrorContext {
  std::string endpoint;  ///< "DELETE /api/emails/{email}"
  std::string note;      ///< e.g. "gave up after 4 attempts"
  std::string_view api_key;
  std::string_view limit_option = "ClientOptions::max_response_bytes";
};

/// The exception for a non-2xx response: InvalidRequestError (400, 422),
/// AuthError (401), PermissionError (403), NotFoundError (404),
/// ConflictError (409), QuotaExceededError (429), ServerError (5xx), else
/// HttpError. Its server_message() is the body's `message` or an excerpt.
std::exception_ptr status_error(int status, std::string_view body, const ErrorContext& context,
                                const std::optional<Quota>& quota = std::nullopt,
                                std::optional<std::chrono::sys_seconds> retry_at = std::nullopt);

/// TransportError, TlsError, TimeoutError or ResponseTooLargeError.
std::exception_ptr transport_error(const TransportFailure& failure, const ErrorContext& context);

/// A DecodeError from the decoders, with the status and endpoint added.
std::exception_ptr decode_error(const DecodeError& error, int status, const ErrorContext& context);

}  // namespace tempmail::detail
