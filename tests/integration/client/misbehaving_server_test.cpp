// The client against a scripted loopback server that misbehaves on purpose:
// each misbehaviour ends in its typed error or in a successful retry.
#include "support/misbehaving_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tempmail/client.hpp"

namespace tempmail {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::MisbehavingServer;
using ::testing::Not;
using testing::Step;

constexpr const char* kKey = "sk_test_SECRET_KEY_42";

const std::string kDomainsBody =
    R"({"status": true, "data": {"requested_type": "free", "allowed_types": ["free"],
        "domains": [{"domain": "example.com", "type": "Free", "custom": false}]}})";
const std::string kCreateBody =
    R"({"status": true, "data": {"id": 2301, "email": "randombox@example.com", "domain": "example.com",
        "expire_at": "2026-06-28T09:49:08+00:00", "expires_in_seconds": 600,
        "created_at": "2026-06-28T09:39:08+00:00", "email_token": "encrypted-email-token"}})";
const std::string kListBody = R"({"status": true, "mailbox": "a+b@example.com", "messages": []})";
const std::string kNginx502 =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
    "Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

std::string ok(const std::string& body, const testing::Headers& headers = {}) {
  return testing::http_response(200, body, "application/json", headers);
}

// Retries quickly, so tests that exercise them stay fast.
const RetryPolicy kFastRetry{
    .max_attempts = 3, .backoff = {.initial = 1ms, .factor = 2.0, .max = 5ms}, .max_elapsed = 10s};

ClientOptions options_for(const MisbehavingServer& server,
                          RetryPolicy retry = RetryPolicy::none()) {
  return {.base_url = server.base_url(),
          .api_key = kKey,
          .connect_timeout = 5s,
          .request_timeout = 5s,
          .retry = retry};
}

// Runs `f`, expecting it to throw E; returns the exception for inspection.
template <class E, class F>
std::optional<E> thrown_by(F f) {
  try {
    f();
  } catch (const E& e) {
    EXPECT_THAT(e.what(), Not(HasSubstr(kKey)));
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another type: " << e.what();
    return std::nullopt;
  }
  ADD_FAILURE() << "threw nothing";
  return std::nullopt;
}

TEST(ClientOverHttp, SendsTheDocumentedHeaders) {
  MisbehavingServer server({Step::respond(ok(kDomainsBody))});
  Client client(options_for(server));
  (void)client.domains();
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/api/domains?type=free");
  EXPECT_EQ(requests[0].header("Authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(requests[0].header("Accept"), "application/json");
  EXPECT_EQ(requests[0].header("User-Agent"), "tempmail-cpp/" TEMPMAIL_PROJECT_VERSION);
  EXPECT_EQ(requests[0].header("Host"), "127.0.0.1:" + std::to_string(server.port()));
}

TEST(ClientOverHttp, SendsEachEndpointWithItsMethodAndEncodedTarget) {
  MisbehavingServer server({Step::respond(ok(kCreateBody)), Step::respond(ok(kCreateBody)),
                            Step::respond(ok(R"({"status": true, "message": "deleted"})")),
                            Step::respond(ok(kListBody)),
                            Step::respond(ok(R"({"status": true, "data": {"id": "M1"}})")),
                            Step::respond(ok(R"({"status": true, "message": "deleted"})")),
                            Step::respond(testing::http_response(200, "bytes", "text/plain"))});
  Client client(options_for(server));
  (void)client.create_mailbox();
  (void)client.switch_mailbox("a+b@example.com", "demo123", "example.com");
  client.delete_mailbox("a+b@example.com");
  EXPECT_EQ(client.messages("a+b@example.com").mailbox, "a+b@example.com");
  EXPECT_EQ(client.message("M1").id, "M1");
  client.delete_message("M1");
  EXPECT_EQ(client.attachment("M1", "my file \xC3\xBC.pdf"), "bytes");

  std::vector<std::string> seen;
  for (const auto& r : server.requests()) seen.push_back(r.method + " " + r.target);
  EXPECT_THAT(
      seen, ::testing::ElementsAre(
                "POST /api/emails", "POST /api/emails/a%2Bb@example.com/demo123/example.com",
                "DELETE /api/emails/a%2Bb@example.com", "GET /api/messages?email=a%2Bb@example.com",
                "GET /api/messages/M1", "DELETE /api/messages/M1",
                "GET /api/messages/M1/attachments/my%20file%20%C3%BC.pdf"));
  EXPECT_EQ(server.requests()[0].header("Content-Length"), "0");
}

TEST(ClientOverHttp, FindsOnceThatAServerWithoutLocalExtrasHasNoLongPoll) {
  // The hosted API answers /_local/health like any unknown path.
  MisbehavingServer server(
      {Step::respond(testing::http_response(404, "<html>Not Found</html>", "text/html"))});
  Client client(options_for(server));
  EXPECT_FALSE(client.supports_long_poll());
  EXPECT_EQ(client.long_poll("box@example.com", "", 1s), std::nullopt);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);  // asked once, remembered
  EXPECT_EQ(requests[0].target, "/_local/health");
}

TEST(ClientOverHttp, ReusesAKeepAliveConnection) {
  MisbehavingServer server({Step::respond(ok(kDomainsBody)), Step::respond(ok(kDomainsBody))});
  Client client(options_for(server));
  (void)client.domains();
  (void)client.domains();
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST(ClientOverHttp, ReconnectsWhenTheServerClosedAnIdleConnection) {
  MisbehavingServer server(
      {Step::respond_then_close(ok(kDomainsBody)), Step::respond(ok(kCreateBody))});
  Client client(options_for(server));
  (void)client.domains();
  ASSERT_TRUE(server.wait_for_closed_connections(1, 5s));
  EXPECT_EQ(client.create_mailbox().id, 2301);
  EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST(ClientOverHttp, ResendsOnceWhenAReusedConnectionClosesWithoutAnswering) {
  // The race the idle check cannot see: the server closes just as the request
  // goes out. Even a POST is sent again, as nothing of it was processed.
  MisbehavingServer server({Step::respond(ok(kDomainsBody)), Step::close_without_response(),
                            Step::respond(ok(kCreateBody))});
  Client client(options_for(server));  // no retries by policy
  (void)client.domains();
  EXPECT_EQ(client.create_mailbox().email, "randombox@example.com");
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST(ClientOverHttp, DoesNotResendWhenAFreshConnectionClosesWithoutAnswering) {
  MisbehavingServer server({Step::close_without_response(), Step::respond(ok(kCreateBody))});
  Client client(options_for(server));
  auto e = thrown_by<TransportError>([&] { (void)client.create_mailbox(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->http_status(), 0);
  EXPECT_EQ(e->endpoint(), "POST /api/emails");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClientOverHttp, ReportsAConnectionDroppedMidResponse) {
  const std::string full = ok(kDomainsBody);
  MisbehavingServer server({Step::partial_then_close(full.substr(0, full.size() - 20))});
  Client client(options_for(server));
  auto e = thrown_by<TransportError>([&] { (void)client.domains(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(typeid(*e), typeid(TransportError));
  EXPECT_THAT(e->what(), HasSubstr("broke in the middle of the response"));
}

TEST(ClientOverHttp, RetriesAGetWhoseResponseWasDropped) {
  const std::string full = ok(kDomainsBody);
  MisbehavingServer server(
      {Step::partial_then_close(full.substr(0, full.size() - 20)), Step::respond(full)});
  Client client(options_for(server, kFastRetry));
  EXPECT_EQ(client.domains().domains.size(), 1u);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(ClientOverHttp, ReportsAnHtml502AsServerError) {
  MisbehavingServer server({Step::respond(testing::http_response(502, kNginx502, "text/html"))});
  Client client(options_for(server));
  auto e = thrown_by<ServerError>([&] { (void)client.messages("a@example.com"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->http_status(), 502);
  EXPECT_EQ(e->server_message(), "502 Bad Gateway");
  EXPECT_EQ(e->endpoint(), "GET /api/messages?email={email}");
}

TEST(ClientOverHttp, RetriesAGetAfterA502) {
  MisbehavingServer server({Step::respond(testing::http_response(502, kNginx502, "text/html")),
                            Step::respond(ok(kListBody))});
  Client client(options_for(server, kFastRetry));
  EXPECT_EQ(client.messages("a+b@example.com").mailbox, "a+b@example.com");
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(ClientOverHttp, GivesUpAfterTheLastAttempt) {
  MisbehavingServer server({Step::respond(testing::http_response(503, "")),
                            Step::respond(testing::http_response(503, "")),
                            Step::respond(testing::http_response(503, ""))});
  Client client(options_for(server, kFastRetry));
  auto e = thrown_by<ServerError>([&] { client.delete_message("M1"); });
  ASSERT_TRUE(e);
  EXPECT_THAT(e->what(), HasSubstr("gave up after 3 attempts"));
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ClientOverHttp, DoesNotRepeatAPostAfterA502) {
  MisbehavingServer server({Step::respond(testing::http_response(502, kNginx502, "text/html")),
                            Step::respond(ok(kCreateBody))});
  Client client(options_for(server, kFastRetry));
  auto e = thrown_by<ServerError>([&] { (void)client.create_mailbox(); });
  ASSERT_TRUE(e);
  EXPECT_THAT(e->what(), HasSubstr("POST is not repeated"));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(ClientOverHttp, ReportsTruncatedJsonAsDecodeError) {
  MisbehavingServer server(
      {Step::respond(ok(R"({"status": true, "data": {"domains": [{"domain": "exa)"))});
  Client client(options_for(server, kFastRetry));
  auto e = thrown_by<DecodeError>([&] { (void)client.domains(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field(), "");
  EXPECT_EQ(e->http_status(), 200);
  EXPECT_THAT(e->what(), HasSubstr("not valid JSON"));
  EXPECT_EQ(server.requests().size(), 1u);  // not retried
}

TEST(ClientOverHttp, ReportsAWrongFieldTypeWithItsPath) {
  MisbehavingServer server({Step::respond(
      ok(R"({"status": true, "data": {"domains": [{"domain": "x.test", "custom": "yes"}]}})"))});
  Client client(options_for(server));
  auto e = thrown_by<DecodeError>([&] { (void)client.domains(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field(), "data.domains[0].custom");
}

TEST(ClientOverHttp, RetriesA429AfterRetryAfter) {
  const testing::Headers quota{{"X-RateLimit-Limit", "100"},
                               {"X-RateLimit-Used", "100"},
                               {"X-RateLimit-Remaining", "0"},
                               {"X-RateLimit-Reset", "2026-05-01T00:00:00+05:00"}};
  testing::Headers limited = quota;
  limited.emplace_back("Retry-After", "0");
  MisbehavingServer server({Step::respond(testing::http_response(429, R"({"message": "Too many"})",
                                                                 "application/json", limited)),
                            Step::respond(ok(kCreateBody, {{"X-RateLimit-Limit", "100"},
                                                           {"X-RateLimit-Used", "1"},
                                                           {"X-RateLimit-Remaining", "99"}}))});
  Client client(options_for(server, kFastRetry));
  EXPECT_EQ(client.create_mailbox().id, 2301);  // even a POST: a 429 did nothing
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(client.last_quota(), (Quota{.limit = 100, .used = 1, .remaining = 99}));
}

TEST(ClientOverHttp, ThrowsQuotaExceededWhenTheRetryTimeIsTooFar) {
  MisbehavingServer server({Step::respond(testing::http_response(
      429, R"({"status": false, "message": "Monthly quota exhausted"})", "application/json",
      {{"X-RateLimit-Limit", "50000"},
       {"X-RateLimit-Used", "50000"},
       {"X-RateLimit-Remaining", "0"},
       {"X-RateLimit-Reset", "2026-05-01T00:00:00+05:00"},
       {"Retry-After", "3600"}}))});
  Client client(options_for(server, kFastRetry));
  const auto before = std::chrono::system_clock::now();
  auto e = thrown_by<QuotaExceededError>([&] { (void)client.messages("a@example.com"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->server_message(), "Monthly quota exhausted");
  ASSERT_TRUE(e->quota());
  EXPECT_EQ(e->quota()->remaining, 0);
  ASSERT_TRUE(e->retry_at());
  EXPECT_GE(*e->retry_at(), std::chrono::floor<std::chrono::seconds>(before) + 3599s);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(client.last_quota()->used, 50000);
}

TEST(ClientOverHttp, TimesOutAResponseSlowerThanTheRequestTimeout) {
  MisbehavingServer server({Step::hang()});
  ClientOptions options = options_for(server);
  options.request_timeout = 200ms;
  Client client(options);
  const auto start = std::chrono::steady_clock::now();
  auto e = thrown_by<TimeoutError>([&] { (void)client.domains(); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(e);
  EXPECT_THAT(e->what(), HasSubstr("request_timeout"));
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 5s);  // loosely: bounded by the timeout, not hanging
}

TEST(ClientOverHttp, EndsTheCallAtItsDeadline) {
  MisbehavingServer server({Step::hang(), Step::hang(), Step::hang()});
  Client client(options_for(server, kFastRetry));  // request_timeout 5s
  const auto start = std::chrono::steady_clock::now();
  auto e =
      thrown_by<TimeoutError>([&] { (void)client.domains("free", {.deadline = start + 300ms}); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(e);
  EXPECT_THAT(e->what(), HasSubstr("CallOptions::deadline"));
  EXPECT_LT(elapsed, 3s);
}

TEST(ClientOverHttp, RejectsAJsonBodyOverTheLimit) {
  MisbehavingServer server({Step::respond(ok(std::string(4096, ' ') + kListBody))});
  ClientOptions options = options_for(server, kFastRetry);
  options.max_response_bytes = 1024;
  Client client(options);
  auto e = thrown_by<ResponseTooLargeError>([&] { (void)client.messages("a@example.com"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->limit(), 1024u);
  EXPECT_THAT(e->what(), HasSubstr("max_response_bytes"));
  EXPECT_EQ(server.requests().size(), 1u);  // not retried
}

TEST(ClientOverHttp, RejectsAChunkedAttachmentOverTheLimit) {
  MisbehavingServer server(
      {Step::respond(testing::chunked_response(200, std::string(10000, 'x')))});
  ClientOptions options = options_for(server);
  options.max_attachment_bytes = 4096;
  Client client(options);
  auto e = thrown_by<ResponseTooLargeError>([&] { (void)client.attachment("M1", "big.bin"); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->limit(), 4096u);
  EXPECT_THAT(e->what(), HasSubstr("max_attachment_bytes"));
}

TEST(ClientOverHttp, ReportsConnectionRefusedAsTransportError) {
  Client client({.base_url = "http://127.0.0.1:" + std::to_string(testing::unused_loopback_port()),
                 .api_key = kKey,
                 .retry = RetryPolicy::none()});
  auto e = thrown_by<TransportError>([&] { (void)client.domains(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(typeid(*e), typeid(TransportError));
  EXPECT_THAT(e->what(), AllOf(HasSubstr("could not connect"), HasSubstr("base_url")));
}

TEST(ClientOverHttp, MapsA401AndKeepsTheEchoedKeyOut) {
  MisbehavingServer server({Step::respond(testing::http_response(
      401, std::string(R"({"message": "Invalid key Bearer )") + kKey + "\"}"))});
  Client client(options_for(server));
  auto e = thrown_by<AuthError>([&] { client.delete_mailbox("a@example.com"); });
  ASSERT_TRUE(e);
  EXPECT_THAT(e->server_message(), AllOf(Not(HasSubstr(kKey)), HasSubstr("[REDACTED]")));
  EXPECT_THAT(e->what(), HasSubstr("TEMPMAIL_API_KEY"));
}

TEST(ClientOverHttp, StreamsAnAttachmentToAFileAndRenamesItWhenComplete) {
  const std::string bytes(100000, 'a');
  MisbehavingServer server({Step::respond(testing::chunked_response(200, bytes, 7000))});
  Client client(options_for(server));
  const auto dir =
      std::filesystem::temp_directory_path() / ("tempmail-client-" + std::to_string(server.port()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "out.bin";
  EXPECT_EQ(client.download_attachment("M1", "out.bin", file), bytes.size());
  std::ifstream in(file, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), bytes);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temp file left
  std::filesystem::remove_all(dir);
}

TEST(ClientOverHttp, LeavesTheTargetFileAloneWhenADownloadFails) {
  const std::string full = testing::chunked_response(200, std::string(50000, 'b'), 1000);
  MisbehavingServer server({Step::partial_then_close(full.substr(0, full.size() / 2))});
  Client client(options_for(server));
  const auto dir =
      std::filesystem::temp_directory_path() / ("tempmail-client-" + std::to_string(server.port()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "keep.bin";
  std::ofstream(file) << "old";
  EXPECT_THROW((void)client.download_attachment("M1", "keep.bin", file), TransportError);
  std::ifstream in(file);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  std::filesystem::remove_all(dir);
}

TEST(ClientOverHttp, StreamsAnAttachmentToAnOstream) {
  MisbehavingServer server({Step::respond(testing::chunked_response(200, "hello, attachment", 4))});
  Client client(options_for(server));
  std::ostringstream out;
  EXPECT_EQ(client.download_attachment("M1", "a.txt", out), 17u);
  EXPECT_EQ(out.str(), "hello, attachment");
}

TEST(ClientOverHttp, ReadsTheErrorOfAnAttachmentRequestInsteadOfStreamingIt) {
  MisbehavingServer server(
      {Step::respond(testing::http_response(404, R"({"message": "No such attachment"})"))});
  Client client(options_for(server));
  std::ostringstream out;
  auto e = thrown_by<NotFoundError>([&] { (void)client.download_attachment("M1", "a.txt", out); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->server_message(), "No such attachment");
  EXPECT_EQ(out.str(), "");
}

TEST(ClientOverHttp, ServesSeveralThreadsAtOnce) {
  constexpr int kThreads = 4;
  constexpr int kCalls = 10;
  std::vector<Step> script;
  for (int i = 0; i < kThreads * kCalls; ++i) script.push_back(Step::respond(ok(kDomainsBody)));
  MisbehavingServer server(std::move(script));
  Client client(options_for(server));
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i)
        if (client.domains().domains.size() == 1) ++succeeded;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(succeeded.load(), kThreads * kCalls);
  EXPECT_LE(server.connections_accepted(), static_cast<std::size_t>(kThreads));
}

}  // namespace
}  // namespace tempmail
