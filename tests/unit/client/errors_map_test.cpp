#include "client/errors_map.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time.hpp"
#include "tempmail/errors.hpp"

namespace tempmail::detail {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kKey = "sk_live_SECRET123";

const ErrorContext kContext{.endpoint = "DELETE /api/emails/{email}", .api_key = kKey};

template <class E>
E rethrow_as(std::exception_ptr p) {
  try {
    std::rethrow_exception(p);
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
  throw std::logic_error("unreachable");
}

std::chrono::sys_seconds at(std::string_view iso) { return *parse_iso8601(iso); }

HttpResponse with_headers(std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse r;
  r.status = 200;
  r.headers = std::move(headers);
  return r;
}

TEST(StatusError, MapsEachStatusToItsType) {
  const std::string body = R"({"status": false, "message": "why"})";
  EXPECT_NO_THROW(rethrow_as<InvalidRequestError>(status_error(400, body, kContext)));
  EXPECT_NO_THROW(rethrow_as<InvalidRequestError>(status_error(422, body, kContext)));
  EXPECT_NO_THROW(rethrow_as<AuthError>(status_error(401, body, kContext)));
  EXPECT_NO_THROW(rethrow_as<PermissionError>(status_error(403, body, kContext)));
  EXPECT_NO_THROW(rethrow_as<NotFoundError>(status_error(404, body, kContext)));
  EXPECT_NO_THROW(rethrow_as<ConflictError>(status_error(409, body, kContext)));
  EXPECT_NO_THROW(rethrow_as<QuotaExceededError>(status_error(429, body, kContext)));
  EXPECT_NO_THROW(rethrow_as<ServerError>(status_error(500, body, kContext)));
  EXPECT_NO_THROW(rethrow_as<ServerError>(status_error(503, body, kContext)));
  const HttpError other = rethrow_as<HttpError>(status_error(418, body, kContext));
  EXPECT_EQ(typeid(other), typeid(HttpError));
}

TEST(StatusError, CarriesStatusServerMessageAndEndpoint) {
  const NotFoundError e = rethrow_as<NotFoundError>(
      status_error(404, R"({"status": false, "message": "Email not found."})", kContext));
  EXPECT_EQ(e.http_status(), 404);
  EXPECT_EQ(e.server_message(), "Email not found.");
  EXPECT_EQ(e.endpoint(), "DELETE /api/emails/{email}");
  EXPECT_THAT(e.what(), AllOf(HasSubstr("DELETE /api/emails/{email}"), HasSubstr("404"),
                              HasSubstr("Email not found.")));
}

TEST(StatusError, TellsWhatToDoAfterA401) {
  const AuthError e =
      rethrow_as<AuthError>(status_error(401, R"({"message": "Unauthenticated."})", kContext));
  EXPECT_THAT(e.what(), HasSubstr("check TEMPMAIL_API_KEY"));
}

TEST(StatusError, QuotesTheTitleOfAnHtml502Page) {
  const ServerError e = rethrow_as<ServerError>(status_error(
      502,
      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad "
      "Gateway</h1></center></body></html>",
      kContext));
  EXPECT_EQ(e.http_status(), 502);
  EXPECT_EQ(e.server_message(), "502 Bad Gateway");
  EXPECT_THAT(e.what(), AllOf(HasSubstr("502 Bad Gateway"), HasSubstr("try again later")));
}

TEST(StatusError, HandlesAnEmptyBody) {
  const ServerError e = rethrow_as<ServerError>(status_error(503, "", kContext));
  EXPECT_EQ(e.server_message(), "");
  EXPECT_THAT(e.what(), HasSubstr("503 Service Unavailable"));
}

TEST(StatusError, GivesA429ItsQuotaAndRetryTime) {
  const Quota quota{
      .limit = 50000, .used = 50000, .remaining = 0, .reset = at("2026-05-01T00:00:00+05:00")};
  const auto e = rethrow_as<QuotaExceededError>(
      status_error(429, R"({"message": "Quota exceeded"})", kContext, quota, quota.reset));
  EXPECT_EQ(e.quota(), quota);
  EXPECT_EQ(e.retry_at(), at("2026-04-30T19:00:00Z"));
  EXPECT_THAT(e.what(), AllOf(HasSubstr("used 50000 of 50000"),
                              HasSubstr("retry after 2026-04-30T19:00:00+00:00")));
}

TEST(StatusError, AddsWhyItWasNotRetried) {
  ErrorContext context = kContext;
  context.note = "gave up after 4 attempts";
  const ServerError e = rethrow_as<ServerError>(status_error(500, "", context));
  EXPECT_THAT(e.what(), HasSubstr("(gave up after 4 attempts)"));
}

TEST(Errors, AreNotDamagedByAShortApiKey) {
  // Our own words never contain the key, so there is nothing to replace in them.
  const ErrorContext context{.endpoint = "DELETE /api/emails/{email}", .api_key = "e"};
  const std::string body = R"({"message": "Missing or invalid API key: send the Bearer header"})";
  for (int code : {401, 404, 429, 500}) {
    try {
      std::rethrow_exception(status_error(code, body, context));
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), Not(HasSubstr("[REDACTED]"))) << code;
      EXPECT_THAT(e.what(), HasSubstr("Missing or invalid API key: send the Bearer header"));
      EXPECT_THAT(e.what(), HasSubstr("DELETE /api/emails/{email}: the server answered"));
    }
  }
  const TlsError tls = rethrow_as<TlsError>(transport_error(
      TransportFailure(FailureKind::kTls, false, "the certificate expired"), context));
  EXPECT_THAT(tls.what(),
              HasSubstr("the certificate expired. Check that the server's certificate"));
}

TEST(TransportError, TellsToUseHttpWhenTheServerAnsweredInPlainHttp) {
  TransportFailure f(FailureKind::kTls, false,
                     "TLS handshake with 127.0.0.1:8025 failed: the server answered in plain HTTP");
  f.plain_http = true;
  const TlsError e = rethrow_as<TlsError>(transport_error(f, kContext));
  EXPECT_THAT(e.what(), HasSubstr("use http:// instead of https://"));
  EXPECT_THAT(e.what(), Not(HasSubstr("certificate")));
}

TEST(Errors, NeverContainTheApiKey) {
  // A server that echoes the Authorization header back must not leak it.
  const std::string echo =
      std::string(R"({"message": "bad key Bearer )") + std::string(kKey) + "\"}";
  for (int code : {400, 401, 403, 404, 409, 422, 429, 500, 502, 418}) {
    const std::exception_ptr p = status_error(code, echo, kContext);
    try {
      std::rethrow_exception(p);
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), Not(HasSubstr(kKey))) << code;
      EXPECT_THAT(e.server_message(), Not(HasSubstr(kKey))) << code;
    }
  }
  TransportFailure f(FailureKind::kTransport, true, "peer said " + std::string(kKey));
  try {
    std::rethrow_exception(transport_error(f, kContext));
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), Not(HasSubstr(kKey)));
  }
}

TEST(TransportError, MapsEachKindToItsType) {
  EXPECT_NO_THROW(rethrow_as<TlsError>(
      transport_error(TransportFailure(FailureKind::kTls, false, "handshake failed"), kContext)));
  EXPECT_NO_THROW(rethrow_as<TimeoutError>(
      transport_error(TransportFailure(FailureKind::kTimeout, true, "timed out"), kContext)));
  const TransportError refused = rethrow_as<TransportError>(
      transport_error(TransportFailure(FailureKind::kConnect, false, "refused"), kContext));
  EXPECT_EQ(typeid(refused), typeid(TransportError));
  EXPECT_EQ(refused.http_status(), 0);
  EXPECT_EQ(refused.endpoint(), "DELETE /api/emails/{email}");

  TransportFailure big(FailureKind::kPermanent, true, "too large");
  big.too_large = true;
  big.status = 200;
  big.limit = 1024;
  const auto e = rethrow_as<ResponseTooLargeError>(transport_error(big, kContext));
  EXPECT_EQ(e.limit(), 1024u);
  EXPECT_EQ(e.http_status(), 200);
  EXPECT_THAT(e.what(), HasSubstr("ClientOptions::max_response_bytes"));
}

TEST(DecodeErrorContext, AddsStatusEndpointAndKeepsTheField) {
  const DecodeError raw("data.domains[0].custom must be a boolean, got a string", 0, {},
                        "data.domains[0].custom");
  const auto e = rethrow_as<DecodeError>(decode_error(raw, 200, kContext));
  EXPECT_EQ(e.field(), "data.domains[0].custom");
  EXPECT_EQ(e.http_status(), 200);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("DELETE /api/emails/{email}"),
                              HasSubstr("data.domains[0].custom must be a boolean")));
}

TEST(ParseQuota, ReadsTheFourHeaders) {
  const HttpResponse r = with_headers({{"X-RateLimit-Limit", "50000"},
                                       {"x-ratelimit-used", "124"},
                                       {"X-RateLimit-Remaining", " 49876 "},
                                       {"X-RateLimit-Reset", "2026-05-01T00:00:00+05:00"}});
  EXPECT_EQ(
      parse_quota(r),
      (Quota{
          .limit = 50000, .used = 124, .remaining = 49876, .reset = at("2026-04-30T19:00:00Z")}));
}

TEST(ParseQuota, IsEmptyWithoutTheCountersAndToleratesABadReset) {
  EXPECT_EQ(parse_quota(with_headers({})), std::nullopt);
  EXPECT_EQ(parse_quota(with_headers({{"X-RateLimit-Limit", "10"},
                                      {"X-RateLimit-Used", "x"},
                                      {"X-RateLimit-Remaining", "1"}})),
            std::nullopt);
  const auto q = parse_quota(with_headers({{"X-RateLimit-Limit", "10"},
                                           {"X-RateLimit-Used", "9"},
                                           {"X-RateLimit-Remaining", "1"},
                                           {"X-RateLimit-Reset", "soon"}}));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->reset, std::nullopt);
}

TEST(QuotaRetryAt, PrefersRetryAfterOverTheQuotaReset) {
  const std::chrono::sys_seconds now = at("2026-04-01T00:00:00Z");
  const Quota quota{.limit = 1, .used = 1, .remaining = 0, .reset = at("2026-05-01T00:00:00Z")};
  EXPECT_EQ(quota_retry_at(with_headers({{"Retry-After", "120"}}), quota, now),
            now + std::chrono::seconds(120));
  EXPECT_EQ(quota_retry_at(with_headers({}), quota, now), quota.reset);
  EXPECT_EQ(quota_retry_at(with_headers({{"Retry-After", "garbage"}}), std::nullopt, now),
            std::nullopt);
}

}  // namespace
}  // namespace tempmail::detail
