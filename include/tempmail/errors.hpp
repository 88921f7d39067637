/// @file errors.hpp
/// Every failure the library reports is a `tempmail::Error`: it carries the
/// HTTP status (0 when no response arrived), the server's own message, and the
/// endpoint that was called. Catch the subclass that says what happened.
///
///   try { client.delete_mailbox(address); }
///   catch (const tempmail::NotFoundError&) { /* already gone */ }
///
/// No message ever contains the API key.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

#include "tempmail/quota.hpp"

namespace tempmail {

/// The common base. `what()` says what went wrong and what to do about it.
class Error : public std::runtime_error {
 public:
  Error(const std::string& what, int http_status, std::string server_message,
        std::string endpoint);

  /// The HTTP status of the response, or 0 when none was received.
  [[nodiscard]] int http_status() const noexcept { return http_status_; }
  /// The `message` field of the server's error body, or an excerpt of a body
  /// that was not JSON; empty when there was no body.
  [[nodiscard]] const std::string& server_message() const noexcept { return server_message_; }
  /// The endpoint called, as a template: "DELETE /api/emails/{email}".
  [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }

 private:
  int http_status_;
  std::string server_message_;
  std::string endpoint_;
};

/// No usable response: could not resolve or connect, the connection broke, or
/// the response could not be read as HTTP.
class TransportError : public Error {
 public:
  using Error::Error;
};

/// The TLS handshake failed: untrusted certificate, wrong host name, protocol.
class TlsError : public TransportError {
 public:
  using TransportError::TransportError;
};

/// The connect or request timeout ran out before the response was complete.
class TimeoutError : public TransportError {
 public:
  using TransportError::TransportError;
};

/// The response body was larger than the limit the caller set.
class ResponseTooLargeError : public Error {
 public:
  ResponseTooLargeError(const std::string& what, int http_status, std::string endpoint,
                        std::size_t limit)
      : Error(what, http_status, {}, std::move(endpoint)), limit_(limit) {}
  [[nodiscard]] std::size_t limit() const noexcept { return limit_; }

 private:
  std::size_t limit_;
};

/// A response with a status the call does not accept. Subclasses name the
/// common statuses; any other 4xx is an `HttpError` itself.
class HttpError : public Error {
 public:
  using Error::Error;
};

/// 400, or 422: the request itself is malformed or invalid (bad username or domain).
class InvalidRequestError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// 401: the API key is missing, unknown or revoked.
class AuthError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// 403: the plan does not allow what was asked (e.g. a domain type).
class PermissionError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// 404: no such mailbox, message or attachment for this key.
class NotFoundError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// 409: the requested address is already taken.
class ConflictError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// 429: the monthly quota is used up. Says when it resets, when known.
class QuotaExceededError : public HttpError {
 public:
  QuotaExceededError(const std::string& what, std::string server_message, std::string endpoint,
                     std::optional<Quota> quota,
                     std::optional<std::chrono::sys_seconds> retry_at)
      : HttpError(what, 429, std::move(server_message), std::move(endpoint)),
        quota_(std::move(quota)),
        retry_at_(retry_at) {}

  /// The quota headers of the 429 response, when it had them.
  [[nodiscard]] const std::optional<Quota>& quota() const noexcept { return quota_; }
  /// When a new request may succeed: `Retry-After` if given, else the quota's reset.
  [[nodiscard]] std::optional<std::chrono::sys_seconds> retry_at() const noexcept {
    return retry_at_;
  }

 private:
  std::optional<Quota> quota_;
  std::optional<std::chrono::sys_seconds> retry_at_;
};

/// 5xx: the service or a gateway in front of it failed.
class ServerError : public HttpError {
 public:
  using HttpError::HttpError;
};

/// A 2xx response whose body is not what the API documents. `field()` is the
/// JSON path that was wrong, e.g. "data.domains[0].custom"; empty when the
/// body was not JSON at all.
class DecodeError : public Error {
 public:
  DecodeError(const std::string& what, int http_status, std::string endpoint, std::string field)
      : Error(what, http_status, {}, std::move(endpoint)), field_(std::move(field)) {}
  [[nodiscard]] const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

}  // namespace tempmail
