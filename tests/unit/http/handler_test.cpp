// handle_request without a socket: routing, JSON shapes (compared with the
// contract's samples), error codes, keys, quota headers.
#include "local/http/handler.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include <atomic>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <memory>

#include "local/http/auth.hpp"

namespace tempmail::local::detail {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr std::string_view kKey = "alice-secret-key-0123456789";
constexpr std::string_view kOtherKey = "bob-secret-key-9876543210";
constexpr std::int64_t kStart = 1782639548;  // 2026-06-28T09:39:08Z

// Samples copied verbatim from /work/shared/spec/temp-mail-user-api.txt.
constexpr std::string_view kDomainsSample = R"({"status": true, "data": {"requested_type": "free",
  "allowed_types": ["free"], "domains": [{"domain": "example.com", "type": "Free", "custom": false}]}})";
constexpr std::string_view kMailboxSample = R"({"status": true, "data": {"id": 2301,
  "email": "randombox@example.com", "domain": "example.com", "expire_at": "2026-06-28T09:49:08+00:00",
  "expires_in_seconds": 600, "created_at": "2026-06-28T09:39:08+00:00", "email_token": "encrypted-email-token"}})";
constexpr std::string_view kDeleteMailboxSample =
    R"({"status": true, "message": "Email has been successfully deleted."})";
constexpr std::string_view kMessage = R"({"is_seen": false, "subject": "Welcome to Temp Mail",
  "from": "Example Sender", "from_email": "hello@example.org", "to": "randombox@example.com",
  "receivedAt": "2026-06-28 09:39:08", "id": "ap94AWDg123ELQz07vrVB9dLXlbqZM5NGwYxOJKko8n6m1",
  "html": true, "content": "<p>Hello from the inbox.</p>", "attachments": [{"name": "file.txt",
  "extension": "txt", "size": 91,
  "url": "https://v1.tempmailg.com/api/messages/ap94AWDg123ELQz07vrVB9dLXlbqZM5NGwYxOJKko8n6m1/attachments/file.txt"}]})";
constexpr std::string_view kDeleteMessageSample =
    R"({"status": true, "message": "Message was deleted successfully."})";

std::string str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

json::value list_sample() {
  return json::parse(R"({"status": true, "mailbox": "randombox@example.com", "messages": [)" +
                     std::string(kMessage) + "]}");
}
json::value read_sample() {
  return json::parse(R"({"status": true, "data": )" + std::string(kMessage) + "}");
}

// Same keys in the same order, same JSON kinds (an int64 and a uint64 are both numbers),
// recursively; every element of an array has the shape of the sample's first element.
::testing::AssertionResult same_shape(const json::value& want, const json::value& got,
                                      const std::string& where = "$") {
  auto kind = [](const json::value& v) {
    if (v.is_int64() || v.is_uint64()) return json::kind::int64;
    return v.kind();
  };
  if (kind(want) != kind(got))
    return ::testing::AssertionFailure()
           << where << ": want " << json::serialize(want) << ", got " << json::serialize(got);
  if (want.is_object()) {
    const auto& w = want.as_object();
    const auto& g = got.as_object();
    std::vector<std::string> wk, gk;
    for (const auto& kv : w) wk.emplace_back(kv.key());
    for (const auto& kv : g) gk.emplace_back(kv.key());
    if (wk != gk)
      return ::testing::AssertionFailure()
             << where << ": keys differ: want " << ::testing::PrintToString(wk) << ", got "
             << ::testing::PrintToString(gk);
    for (const auto& kv : w) {
      auto r = same_shape(kv.value(), g.at(kv.key()), where + "." + std::string(kv.key()));
      if (!r) return r;
    }
  }
  if (want.is_array() && !want.as_array().empty()) {
    for (std::size_t i = 0; i < got.as_array().size(); ++i) {
      auto r =
          same_shape(want.as_array()[0], got.as_array()[i], where + "[" + std::to_string(i) + "]");
      if (!r) return r;
    }
  }
  return ::testing::AssertionSuccess();
}

std::string raw_with_attachment() {
  return "From: Example Sender <hello@example.org>\r\nTo: x@example.com\r\nSubject: Welcome to "
         "Temp Mail\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
         "--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello from the inbox.</p>\r\n"
         "--XX\r\nContent-Type: text/plain; name=\"my file.txt\"\r\n"
         "Content-Disposition: attachment; filename=\"my file.txt\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--XX--\r\n";
}

class Handler : public ::testing::Test {
 protected:
  Handler()
      : store_(StoreOptions{.db_path = {},
                            .domains = {DomainConfig{"example.com", "free"}},
                            .mailbox_ttl = 600s,
                            .monthly_quota = 1000,
                            .parse = &tempmail::detail::parse_message,
                            .clock =
                                [s = seconds_] {
                                  return std::chrono::sys_seconds{std::chrono::seconds{s->load()}};
                                },
                            .log = {}}),
        keys_({std::string(kKey), std::string(kOtherKey)}),
        context_{
            .store = store_, .keys = keys_, .scheme = "http", .base_url = "http://127.0.0.1:9"} {}

  Response call(http::verb method, std::string_view target, std::string_view key = kKey,
                std::string body = {}) {
    Request req{method, target, 11};
    req.set(http::field::host, "127.0.0.1:8025");
    req.set(http::field::accept, "application/json");
    if (!key.empty()) req.set(http::field::authorization, "Bearer " + std::string(key));
    req.body() = std::move(body);
    req.prepare_payload();
    return handle_request(req, context_);
  }
  static json::value body(const Response& res) { return json::parse(res.body()); }

  std::string create(std::string_view key = kKey) {
    auto res = call(http::verb::post, "/api/emails", key);
    EXPECT_EQ(res.result_int(), 200) << res.body();
    return std::string(body(res).at("data").at("email").as_string());
  }
  std::string inject(const std::string& address, std::string raw, std::string_view key = kKey) {
    auto res = call(http::verb::post, "/_local/messages?email=" + address, key, std::move(raw));
    EXPECT_EQ(res.result_int(), 200) << res.body();
    return std::string(body(res).at("data").at("id").as_string());
  }

  std::shared_ptr<std::atomic<std::int64_t>> seconds_ =
      std::make_shared<std::atomic<std::int64_t>>(kStart);
  Store store_;
  Keyring keys_;
  Context context_;
};

TEST_F(Handler, DomainsMatchesTheContractSample) {
  auto res = call(http::verb::get, "/api/domains?type=free");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_TRUE(same_shape(json::parse(kDomainsSample), body(res)));
  EXPECT_EQ(body(res), json::parse(kDomainsSample));  // same domain, type "Free", custom false
}

TEST_F(Handler, DomainsOfATypeOutsideThePlanIsForbidden) {
  auto res = call(http::verb::get, "/api/domains?type=premium");
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_THAT(res.body(), HasSubstr("allowed types: free"));
}

TEST_F(Handler, CreateMailboxMatchesTheContractSample) {
  auto res = call(http::verb::post, "/api/emails");
  ASSERT_EQ(res.result_int(), 200);
  auto b = body(res);
  EXPECT_TRUE(same_shape(json::parse(kMailboxSample), b));
  EXPECT_EQ(b.at("data").at("expire_at"), "2026-06-28T09:49:08+00:00");
  EXPECT_EQ(b.at("data").at("created_at"), "2026-06-28T09:39:08+00:00");
  EXPECT_EQ(b.at("data").at("expires_in_seconds"), 600);
}

TEST_F(Handler, SwitchMatchesTheContractSampleAndReleasesTheOldAddress) {
  auto current = create();
  auto res = call(http::verb::post, "/api/emails/" + current + "/demo123/example.com");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_TRUE(same_shape(json::parse(kMailboxSample), body(res)));
  EXPECT_EQ(body(res).at("data").at("email"), "demo123@example.com");
  EXPECT_EQ(call(http::verb::get, "/api/messages?email=" + current).result_int(), 404);
}

TEST_F(Handler, SwitchAnswers409422And404) {
  auto a = create();
  auto b = create();
  ASSERT_EQ(call(http::verb::post, "/api/emails/" + a + "/taken/example.com").result_int(), 200);
  EXPECT_EQ(call(http::verb::post, "/api/emails/" + b + "/taken/example.com").result_int(), 409);
  EXPECT_EQ(call(http::verb::post, "/api/emails/" + b + "/bad%20name/example.com").result_int(),
            422);
  EXPECT_EQ(call(http::verb::post, "/api/emails/" + b + "/fine/nowhere.net").result_int(), 422);
  EXPECT_EQ(call(http::verb::post, "/api/emails/nobody@example.com/fine/example.com").result_int(),
            404);
}

TEST_F(Handler, DeleteMailboxMatchesTheContractSample) {
  auto address = create();
  auto res = call(http::verb::delete_, "/api/emails/" + address);
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(body(res), json::parse(kDeleteMailboxSample));
  EXPECT_EQ(call(http::verb::delete_, "/api/emails/" + address).result_int(), 404);
}

TEST_F(Handler, ListHasNoDataWrapperAndMatchesTheContractSample) {
  auto address = create();
  auto id = inject(address, raw_with_attachment());
  auto res = call(http::verb::get, "/api/messages?email=" + address);
  ASSERT_EQ(res.result_int(), 200);
  auto b = body(res);
  EXPECT_TRUE(same_shape(list_sample(), b));
  EXPECT_EQ(str(b.at("mailbox")), address);
  const auto& m = b.at("messages").at(0);
  EXPECT_EQ(m.at("is_seen"), false);
  EXPECT_EQ(m.at("subject"), "Welcome to Temp Mail");
  EXPECT_EQ(m.at("from"), "Example Sender");
  EXPECT_EQ(m.at("from_email"), "hello@example.org");
  EXPECT_EQ(str(m.at("to")), address);
  EXPECT_EQ(m.at("receivedAt"), "2026-06-28 09:39:08");
  EXPECT_EQ(str(m.at("id")), id);
  EXPECT_EQ(m.at("html"), true);
  const auto& att = m.at("attachments").at(0);
  EXPECT_EQ(att.at("name"), "my file.txt");
  EXPECT_EQ(att.at("extension"), "txt");
  EXPECT_EQ(att.at("size"), 11);
  EXPECT_EQ(str(att.at("url")),
            "http://127.0.0.1:8025/api/messages/" + id + "/attachments/my%20file.txt");
}

TEST_F(Handler, ReadMatchesTheContractSampleAndMarksTheMessageSeen) {
  auto address = create();
  auto id = inject(address, raw_with_attachment());
  auto res = call(http::verb::get, "/api/messages/" + id);
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_TRUE(same_shape(read_sample(), body(res)));
  EXPECT_EQ(body(res).at("data").at("is_seen"), true);
  EXPECT_EQ(body(call(http::verb::get, "/api/messages?email=" + address))
                .at("messages")
                .at(0)
                .at("is_seen"),
            true);
}

TEST_F(Handler, DeleteMessageMatchesTheContractSample) {
  auto address = create();
  auto id = inject(address, raw_with_attachment());
  auto res = call(http::verb::delete_, "/api/messages/" + id);
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(body(res), json::parse(kDeleteMessageSample));
  EXPECT_EQ(call(http::verb::get, "/api/messages/" + id).result_int(), 404);
}

TEST_F(Handler, AttachmentIsServedAsRawBytesWithTypeAndDisposition) {
  auto address = create();
  auto id = inject(address, raw_with_attachment());
  auto res = call(http::verb::get, "/api/messages/" + id + "/attachments/my%20file.txt");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "hello world");
  EXPECT_EQ(res[http::field::content_type], "text/plain");
  EXPECT_EQ(res[http::field::content_disposition],
            "attachment; filename=\"my file.txt\"; filename*=UTF-8''my%20file.txt");
  EXPECT_EQ(call(http::verb::get, "/api/messages/" + id + "/attachments/none.txt").result_int(),
            404);
}

TEST_F(Handler, MissingOrUnknownKeyIs401WithoutQuotaHeadersOrTheKey) {
  for (std::string_view key : {std::string_view{}, std::string_view{"not-a-configured-key"}}) {
    auto res = call(http::verb::post, "/api/emails", key);
    EXPECT_EQ(res.result_int(), 401);
    EXPECT_EQ(body(res).at("status"), false);
    EXPECT_THAT(std::string(body(res).at("message").as_string()), HasSubstr("Bearer"));
    EXPECT_EQ(res.count("X-RateLimit-Limit"), 0u);
    if (!key.empty()) {
      EXPECT_THAT(res.body(), Not(HasSubstr(key)));
    }
  }
}

TEST_F(Handler, AnotherKeysMailboxMessageAndAttachmentAre404) {
  auto address = create(kKey);
  auto id = inject(address, raw_with_attachment(), kKey);
  EXPECT_EQ(call(http::verb::get, "/api/messages?email=" + address, kOtherKey).result_int(), 404);
  EXPECT_EQ(call(http::verb::get, "/api/messages/" + id, kOtherKey).result_int(), 404);
  EXPECT_EQ(call(http::verb::get, "/api/messages/" + id + "/attachments/my%20file.txt", kOtherKey)
                .result_int(),
            404);
  EXPECT_EQ(call(http::verb::delete_, "/api/messages/" + id, kOtherKey).result_int(), 404);
  EXPECT_EQ(call(http::verb::delete_, "/api/emails/" + address, kOtherKey).result_int(), 404);
  EXPECT_EQ(
      call(http::verb::post, "/_local/messages?email=" + address, kOtherKey, "Subject: x\r\n\r\nx")
          .result_int(),
      404);
}

TEST_F(Handler, AnInjectedMessagesEnvelopeSaysSoAndIsTheKeysOnly) {
  auto address = create(kKey);
  auto id = inject(address, raw_with_attachment(), kKey);
  auto res = call(http::verb::get, "/_local/messages/" + id + "/envelope");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(body(res), json::parse(R"({"status": true, "data": {"mail_from": "", "rcpt_to": [")" +
                                   address +
                                   R"("], "helo": "", "client": "", "tls": null,
                                   "auth_user": null, "injected": true}})"));
  EXPECT_EQ(call(http::verb::get, "/_local/messages/" + id + "/envelope", kOtherKey).result_int(),
            404);
  EXPECT_EQ(call(http::verb::get, "/_local/messages/" + id + "/envelope", "").result_int(), 401);
  EXPECT_EQ(call(http::verb::post, "/_local/messages/" + id + "/envelope").result_int(), 405);
  EXPECT_EQ(call(http::verb::get, "/_local/messages/nope/envelope").result_int(), 404);
  // Reading the envelope does not read the message.
  auto list = body(call(http::verb::get, "/api/messages?email=" + address));
  EXPECT_EQ(list.at("messages").at(0).at("is_seen"), false);
}

TEST_F(Handler, AnSmtpEnvelopeShowsTlsAndTheUserButNeverMore) {
  auto address = create(kKey);
  std::promise<void> stored;
  store_.deliver(std::make_shared<const std::string>("Subject: x\r\n\r\nx\r\n"),
                 Envelope{.mail_from = "app@myapp.test",
                          .rcpt_to = {address, "bcc@elsewhere.test"},
                          .helo = "app.myapp.test",
                          .client = "127.0.0.1:50123",
                          .tls = TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384"},
                          .auth_user = "app",
                          .injected = false},
                 [&](std::error_code) { stored.set_value(); });
  stored.get_future().wait();
  auto list = body(call(http::verb::get, "/api/messages?email=" + address));
  const std::string id(list.at("messages").at(0).at("id").as_string());
  auto res = call(http::verb::get, "/_local/messages/" + id + "/envelope");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(body(res).at("data"),
            json::parse(R"({"mail_from": "app@myapp.test", "rcpt_to": [")" + address +
                        R"(", "bcc@elsewhere.test"], "helo": "app.myapp.test",
                        "client": "127.0.0.1:50123",
                        "tls": {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384"},
                        "auth_user": "app", "injected": false})"));
}

TEST_F(Handler, ExpiredMailboxIs404) {
  auto address = create();
  *seconds_ += 600;
  EXPECT_EQ(call(http::verb::get, "/api/messages?email=" + address).result_int(), 404);
}

TEST_F(Handler, MissingEmailParameterAndBadPathsAre400) {
  EXPECT_EQ(call(http::verb::get, "/api/messages").result_int(), 400);
  EXPECT_THAT(call(http::verb::get, "/api/messages").body(), HasSubstr("'email' query parameter"));
  EXPECT_EQ(call(http::verb::post, "/api/emails/a@example.com/b").result_int(), 400);
  EXPECT_EQ(call(http::verb::get, "/api/messages/x/y").result_int(), 400);
}

TEST_F(Handler, UnknownPathsAre404) {
  EXPECT_EQ(call(http::verb::get, "/api/nothing").result_int(), 404);
  EXPECT_EQ(call(http::verb::get, "/elsewhere").result_int(), 404);
}

TEST_F(Handler, WrongMethodOnAKnownPathIs405WithAllow) {
  auto res = call(http::verb::put, "/api/emails");
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res[http::field::allow], "POST");
  auto msg = call(http::verb::post, "/api/messages/abc");
  EXPECT_EQ(msg.result_int(), 405);
  EXPECT_EQ(msg[http::field::allow], "GET, DELETE");
  EXPECT_EQ(call(http::verb::get, "/api/emails/a@example.com").result_int(), 405);
}

TEST_F(Handler, QuotaHeadersOnEveryAuthenticatedResponseCountingOnly2xx) {
  auto ok = call(http::verb::get, "/api/domains?type=free");
  EXPECT_EQ(ok["X-RateLimit-Limit"], "1000");
  EXPECT_EQ(ok["X-RateLimit-Used"], "1");
  EXPECT_EQ(ok["X-RateLimit-Remaining"], "999");
  EXPECT_EQ(ok["X-RateLimit-Reset"], "2026-07-01T00:00:00+00:00");
  auto missing = call(http::verb::get, "/api/messages?email=nobody@example.com");
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_EQ(missing["X-RateLimit-Used"], "1");
  EXPECT_EQ(call(http::verb::get, "/api/domains", kOtherKey)["X-RateLimit-Used"], "1");
}

TEST_F(Handler, ExhaustedQuotaIs429WithRetryAfterUntilTheReset) {
  for (int i = 0; i < 1000; ++i) store_.count_call(Keyring::account_of(kKey));
  auto res = call(http::verb::get, "/api/domains?type=free");
  EXPECT_EQ(res.result_int(), 429);
  EXPECT_EQ(res["X-RateLimit-Remaining"], "0");
  EXPECT_EQ(res["X-RateLimit-Used"], "1000");
  // 2026-06-28T09:39:08Z -> 2026-07-01T00:00:00Z
  EXPECT_EQ(res[http::field::retry_after], std::to_string(2 * 86400 + 14 * 3600 + 20 * 60 + 52));
  EXPECT_EQ(call(http::verb::get, "/api/domains?type=free", kOtherKey).result_int(), 200);
}

TEST_F(Handler, HealthNeedsNoKey) {
  auto res = call(http::verb::get, "/_local/health", "");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(body(res).at("status"), true);
  EXPECT_TRUE(body(res).at("version").is_string());
  EXPECT_TRUE(body(res).at("mailboxes").is_int64());
}

TEST_F(Handler, LocalEndpointsOtherThanHealthNeedAKey) {
  EXPECT_EQ(call(http::verb::post, "/_local/messages?email=a@example.com", "", "x").result_int(),
            401);
  EXPECT_EQ(call(http::verb::get, "/_local/wait?email=a@example.com", "").result_int(), 401);
}

TEST_F(Handler, WaitAnswersAtOnceWithMessagesNewerThanAfter) {
  auto address = create();
  auto first = inject(address, "Subject: one\r\n\r\n1\r\n");
  auto second = inject(address, "Subject: two\r\n\r\n2\r\n");
  auto res =
      call(http::verb::get, "/_local/wait?email=" + address + "&after=" + first + "&timeout=0");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_TRUE(same_shape(list_sample(), body(res)));
  ASSERT_EQ(body(res).at("messages").as_array().size(), 1u);
  EXPECT_EQ(str(body(res).at("messages").at(0).at("id")), second);
  auto none = call(http::verb::get, "/_local/wait?email=" + address + "&after=" + second);
  EXPECT_THAT(body(none).at("messages").as_array(), IsEmpty());
}

TEST_F(Handler, BeginWaitPlansAWaitOnlyWhenNothingNewerIsThere) {
  auto address = create();
  Request req{http::verb::get, "/_local/wait?email=" + address + "&timeout=1500", 11};
  req.set(http::field::authorization, "Bearer " + std::string(kKey));
  ASSERT_TRUE(is_wait_request(req));
  auto r = begin_wait(req, context_);
  ASSERT_TRUE(std::holds_alternative<WaitPlan>(r));
  EXPECT_EQ(std::get<WaitPlan>(r).timeout, 1500ms);
  inject(address, "Subject: now\r\n\r\nx\r\n");
  EXPECT_TRUE(std::holds_alternative<Response>(begin_wait(req, context_)));
}

// Found by fuzz/targets/http_handler.cpp: error messages quote the request's
// percent-decoded path and parameters, which may be any bytes; the JSON must
// stay valid UTF-8 (Boost.JSON writes strings as given) so clients can parse it.
TEST_F(Handler, ErrorBodiesAreValidJsonWhateverBytesTheRequestCarries) {
  for (const std::string target :
       {"/api/messages/%80abc", "/api/emails/%FF%FE@example.com", "/api/messages?email=%C3",
        "/api/domains?type=%E2%82", "/_local/wait?email=nobody@example.com&after=x%00%80"}) {
    auto res = call(target.find("/emails/") != std::string::npos ? http::verb::delete_
                                                                  : http::verb::get,
                    target);
    EXPECT_GE(res.result_int(), 400) << target;
    boost::system::error_code ec;
    json::value parsed = json::parse(res.body(), ec);
    ASSERT_FALSE(ec) << target << ": " << ec.message() << " in " << res.body();
    EXPECT_THAT(std::string(parsed.at("message").as_string()), HasSubstr("\uFFFD"))
        << target;
  }
}

}  // namespace
}  // namespace tempmail::local::detail
