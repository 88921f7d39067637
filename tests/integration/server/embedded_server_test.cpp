// tempmail::local::Server embedded in a test binary: options are validated,
// the listeners come up on ephemeral loopback ports, and stop() is clean.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <stdexcept>
#include <string>

#include "tempmail/local/server.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

http::response<http::string_body> request(std::uint16_t port, http::verb method,
                                          const std::string& target, const std::string& key) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  if (!key.empty()) req.set(http::field::authorization, "Bearer " + key);
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

std::string what_of(const tempmail::local::ServerOptions& options) {
  try {
    tempmail::local::Server server(options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument)";
}

TEST(LocalServer, ListensOnEphemeralLoopbackPortsWithTheDevKey) {
  tempmail::local::Server server;
  EXPECT_THAT(server.base_url(), MatchesRegex("http://127\\.0\\.0\\.1:[0-9]+"));
  EXPECT_EQ(server.base_url(), "http://127.0.0.1:" + std::to_string(server.http_port()));
  EXPECT_EQ(server.smtp_host(), "127.0.0.1");
  EXPECT_NE(server.smtp_port(), 0);
  EXPECT_EQ(server.api_key(), tempmail::local::kLocalDevKey);
  auto res = request(server.http_port(), http::verb::post, "/api/emails", server.api_key());
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_TRUE(boost::json::parse(res.body()).at("status").as_bool());
}

TEST(LocalServer, ConfiguredKeysReplaceTheDevKey) {
  tempmail::local::Server server({.api_keys = {"first-key-123", "second-key-456"}});
  EXPECT_EQ(server.api_key(), "first-key-123");
  EXPECT_EQ(
      request(server.http_port(), http::verb::post, "/api/emails", "local-dev-key").result_int(),
      401);
  EXPECT_EQ(
      request(server.http_port(), http::verb::post, "/api/emails", "second-key-456").result_int(),
      200);
}

TEST(LocalServer, RejectsABadListenAddressNamingIt) {
  auto what = what_of({.http_listen = "127.0.0.1:99999"});
  EXPECT_THAT(what, HasSubstr("http_listen"));
  EXPECT_THAT(what, HasSubstr("'127.0.0.1:99999'"));
  EXPECT_THAT(what_of({.smtp_listen = "example.com:25"}), HasSubstr("smtp_listen"));
}

// Issue 16: every option is checked, naming the field and what it allows.
TEST(LocalServer, RejectsEachBadOptionNamingTheFieldAndWhatItAllows) {
  using tempmail::local::DomainConfig;
  using namespace std::chrono_literals;
  EXPECT_THAT(what_of({.domains = {{.name = "bad_domain!"}}}),
              AllOf(HasSubstr("ServerOptions::domains[0].name"), HasSubstr("'bad_domain!'"),
                    HasSubstr("a-z, 0-9 and '-'")));
  EXPECT_THAT(what_of({.domains = {{.name = "Example.com"}}}), HasSubstr("lower-case"));
  EXPECT_THAT(what_of({.domains = {{.name = "a-.example"}}}), HasSubstr("domains[0].name"));
  EXPECT_THAT(what_of({.domains = {{.name = std::string(64, 'a') + ".com"}}}),
              HasSubstr("domains[0].name"));
  EXPECT_THAT(what_of({.domains = {{.name = "example.com", .type = "weird"}}}),
              AllOf(HasSubstr("ServerOptions::domains[0].type"), HasSubstr("'free'")));
  EXPECT_THAT(what_of({.domains = {DomainConfig{}, DomainConfig{}}}), HasSubstr("twice"));
  EXPECT_THAT(what_of({.domains = {}}), HasSubstr("ServerOptions::domains is empty"));
  EXPECT_THAT(what_of({.mailbox_ttl = 0s}),
              AllOf(HasSubstr("ServerOptions::mailbox_ttl"), HasSubstr("1 to 31622400")));
  EXPECT_THAT(what_of({.mailbox_ttl = tempmail::local::kMaxMailboxTtl + 1s}),
              HasSubstr("mailbox_ttl"));
  EXPECT_THAT(what_of({.monthly_quota = -1}),
              AllOf(HasSubstr("ServerOptions::monthly_quota"), HasSubstr("0 to 1000000000000")));
  EXPECT_THAT(what_of({.threads = 0}),
              AllOf(HasSubstr("ServerOptions::threads"), HasSubstr("1 to 256")));
  EXPECT_THAT(what_of({.threads = 100000}), HasSubstr("ServerOptions::threads"));
  EXPECT_THAT(what_of({.max_message_bytes = 0}), HasSubstr("ServerOptions::max_message_bytes"));
  EXPECT_THAT(what_of({.api_keys = {"good-key", ""}}),
              HasSubstr("ServerOptions::api_keys[1] is empty"));
  const std::string repeated = what_of({.api_keys = {"key-one", "key-one"}});
  EXPECT_THAT(repeated, HasSubstr("ServerOptions::api_keys[1] repeats ServerOptions::api_keys[0]"));
  EXPECT_THAT(repeated, Not(HasSubstr("key-one")));
  const std::string spaced = what_of({.api_keys = {"secret key"}});
  EXPECT_THAT(spaced, HasSubstr("ServerOptions::api_keys[0]"));
  EXPECT_THAT(spaced, Not(HasSubstr("secret")));  // the key is never quoted
}

TEST(LocalServer, RefusesANonLoopbackAddressWithoutAKey) {
  auto what = what_of({.http_listen = "0.0.0.0:0"});
  EXPECT_THAT(what, HasSubstr("0.0.0.0"));
  EXPECT_THAT(what, HasSubstr("pass an API key"));
}

TEST(LocalServer, ReportsAnAddressInUse) {
  tempmail::local::Server first;
  try {
    tempmail::local::Server second(
        {.http_listen = "127.0.0.1:" + std::to_string(first.http_port())});
    FAIL() << "a second server bound the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot listen for HTTP on 127.0.0.1:" +
                                    std::to_string(first.http_port())));
  }
}

TEST(LocalServer, StopIsIdempotentAndClosesTheListeners) {
  tempmail::local::Server server;
  const auto port = server.http_port();
  server.stop();
  server.stop();
  EXPECT_THROW(request(port, http::verb::get, "/_local/health", ""), boost::system::system_error);
}

TEST(LocalServer, MovesWithoutStopping) {
  tempmail::local::Server a;
  tempmail::local::Server b(std::move(a));
  EXPECT_EQ(request(b.http_port(), http::verb::get, "/_local/health", "").result_int(), 200);
}

TEST(LocalServer, KeyNeverAppearsInAnErrorBody) {
  tempmail::local::Server server({.api_keys = {"super-secret-key-789"}});
  auto res = request(server.http_port(), http::verb::get, "/api/messages?email=x@example.com",
                     "super-secret-key-789x");
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_THAT(res.body(), Not(HasSubstr("super-secret-key-789")));
}

}  // namespace
