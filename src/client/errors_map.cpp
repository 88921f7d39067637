#include "client/errors_map.hpp"

#include <boost/beast/http/status.hpp>
#include <charconv>

#include "client/decode.hpp"
#include "common/ascii.hpp"
#include "common/redact.hpp"
#include "common/time.hpp"
#include "tempmail/errors.hpp"

namespace tempmail::detail {
namespace {

using tempmail::detail::trim;

std::optional<std::int64_t> parse_int(std::optional<std::string_view> text) {
  if (!text) return std::nullopt;
  const std::string_view s = trim(*text);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string status_text(int status) {
  std::string text = std::to_string(status);
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  if (!reason.empty() && reason != "<unknown-status>") {
    text += ' ';
    text.append(reason.data(), reason.size());
  }
  return text;
}

// "<endpoint>: <what happened>. <what to do>[ (<note>)]". Made of our own
// words and the server's message (already screened), so it cannot hold the key.
std::string compose(const ErrorContext& c, const std::string& happened, const std::string& todo) {
  std::string text = c.endpoint + ": " + happened + ". " + todo;
  if (!c.note.empty()) text += " (" + c.note + ")";
  return text;
}

}  // namespace

std::optional<Quota> parse_quota(const HttpResponse& response) {
  auto limit = parse_int(response.header("X-RateLimit-Limit"));
  auto used = parse_int(response.header("X-RateLimit-Used"));
  auto remaining = parse_int(response.header("X-RateLimit-Remaining"));
  if (!limit || !used || !remaining) return std::nullopt;
  Quota q{.limit = *limit, .used = *used, .remaining = *remaining};
  if (auto reset = response.header("X-RateLimit-Reset")) q.reset = parse_iso8601(trim(*reset));
  return q;
}

std::optional<std::chrono::sys_seconds> quota_retry_at(const HttpResponse& response,
                                                       const std::optional<Quota>& quota,
                                                       std::chrono::sys_seconds now) {
  if (auto header = response.header("Retry-After")) {
    if (auto at = parse_retry_after(*header, now)) return at;
  }
  if (quota && quota->reset) return quota->reset;
  return std::nullopt;
}

std::exception_ptr status_error(int status, std::string_view body, const ErrorContext& c,
                                const std::optional<Quota>& quota,
                                std::optional<std::chrono::sys_seconds> retry_at) {
  // The one text from outside: a server or proxy may echo the request's
  // Authorization header back.
  const std::string message = redact(error_body_message(body), c.api_key);
  std::string happened = "the server answered " + status_text(status);
  if (!message.empty()) happened += ": \"" + message + "\"";

  switch (status) {
    case 400:
      return std::make_exception_ptr(InvalidRequestError(
          compose(c, happened, "The request was malformed: check the arguments of the call"),
          status, message, c.endpoint));
    case 422:
      return std::make_exception_ptr(InvalidRequestError(
          compose(c, happened,
                  "An argument was rejected: a username is 1 to 64 characters of a-z 0-9 . _ - and "
                  "the domain must be one that Client::domains() lists"),
          status, message, c.endpoint));
    case 401:
      return std::make_exception_ptr(AuthError(
          compose(c, happened,
                  "The API key was not accepted: check TEMPMAIL_API_KEY (ClientOptions::api_key)"),
          status, message, c.endpoint));
    case 403:
      return std::make_exception_ptr(PermissionError(
          compose(c, happened,
                  "The plan does not allow this: Client::domains() shows the allowed types"),
          status, message, c.endpoint));
    case 404:
      return std::make_exception_ptr(NotFoundError(
          compose(c, happened,
                  "No such mailbox, message or attachment for this API key: it may have expired "
                  "or been deleted"),
          status, message, c.endpoint));
    case 409:
      return std::make_exception_ptr(ConflictError(
          compose(c, happened, "The address is already taken: choose another username"), status,
          message, c.endpoint));
    case 429: {
      std::string todo = "The quota is used up";
      if (quota)
        todo +=
            " (used " + std::to_string(quota->used) + " of " + std::to_string(quota->limit) + ")";
      todo += retry_at ? ": retry after " + format_iso8601(*retry_at)
                       : ": retry later or raise the plan's quota";
      return std::make_exception_ptr(
          QuotaExceededError(compose(c, happened, todo), message, c.endpoint, quota, retry_at));
    }
    default:
      break;
  }
  if (status >= 500 && status <= 599) {
    return std::make_exception_ptr(ServerError(
        compose(c, happened,
                "The service or a gateway in front of it failed: try again later (GET and DELETE "
                "calls are retried per ClientOptions::retry)"),
        status, message, c.endpoint));
  }
  return std::make_exception_ptr(HttpError(
      compose(c, happened, "This status is not part of the API: check ClientOptions::base_url"),
      status, message, c.endpoint));
}

std::exception_ptr transport_error(const TransportFailure& f, const ErrorContext& c) {
  // Words from Asio and OpenSSL: screened like a server's.
  const std::string what = redact(f.what(), c.api_key);
  if (f.too_large) {
    return std::make_exception_ptr(ResponseTooLargeError(
        compose(c, what,
                "Raise " + std::string(c.limit_option) + " if such a response is expected"),
        f.status, c.endpoint, f.limit));
  }
  switch (f.kind()) {
    case FailureKind::kTls:
      if (f.plain_http)
        return std::make_exception_ptr(
            TlsError(compose(c, what,
                             "The server speaks plain HTTP: use http:// instead of https:// in "
                             "ClientOptions::base_url"),
                     0, {}, c.endpoint));
      return std::make_exception_ptr(TlsError(
          compose(
              c, what,
              "Check that the server's certificate is valid for the host name in "
              "ClientOptions::base_url, or set ClientOptions::ca_file to the CA that signed it"),
          0, {}, c.endpoint));
    case FailureKind::kTimeout:
      return std::make_exception_ptr(
          TimeoutError(compose(c, what, "Check that the server is reachable, or allow more time"),
                       0, {}, c.endpoint));
    case FailureKind::kConnect:
      return std::make_exception_ptr(TransportError(
          compose(c, what, "Check ClientOptions::base_url and that the server is running"), 0, {},
          c.endpoint));
    default:
      return std::make_exception_ptr(TransportError(
          compose(c, what, "Check the network and ClientOptions::base_url, then try again"), 0, {},
          c.endpoint));
  }
}

std::exception_ptr decode_error(const DecodeError& e, int status, const ErrorContext& c) {
  const std::string problem =
      e.field().empty() ? std::string(e.what()) : "field " + std::string(e.what());
  return std::make_exception_ptr(DecodeError(
      compose(
          c,
          "the " + std::to_string(status) + " response is not what the API documents: " + problem,
          "Check that ClientOptions::base_url points at a Temp Mail API server"),
      status, c.endpoint, e.field()));
}

}  // namespace tempmail::detail
