// The HTTP listener's HttpLimits against hostile clients on real loopback
// sockets: a client that drips bytes, says nothing, sends a head or body over
// the limit, or opens more connections than it may, is cut off, while other
// clients are still served. HttpServer on 127.0.0.1:0 with short limits and an
// in-memory Store; the clients are raw POSIX sockets, so the test controls
// every byte and sees exactly how the server ends the connection.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "local/http/auth.hpp"
#include "local/http/handler.hpp"
#include "local/http/http_server.hpp"
#include "local/io_pool.hpp"
#include "local/store/store.hpp"
#include "mime/parse.hpp"

namespace tempmail::local::detail {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kKey = "http-limits-test-key";
constexpr auto kIdle = 1s;            // the idle timeout of most tests
constexpr auto kAtLeastIdle = 900ms;  // lower bound of a cut-off (the timer's own clock is steady)
constexpr auto kGiveUp = 5s;          // a cut-off later than this is a failure
constexpr auto kWait = 10s;           // generous bound for anything that should happen now
constexpr auto kDripInterval = 100ms;

// Short limits, so that a test sees each of them hit within a second.
constexpr HttpLimits kShortLimits{.header_limit = 1024,
                                  .body_limit = 1024,
                                  .idle_timeout = kIdle,
                                  .max_connections = 64,
                                  .max_connections_per_address = 16};

using Response = http::response<http::string_body>;

// How a connection stands, as the client sees it.
enum class End { kOpen, kEof, kReset };

std::string describe(End end) {
  switch (end) {
    case End::kOpen:
      return "still open";
    case End::kEof:
      return "closed (EOF)";
    case End::kReset:
      return "reset";
  }
  return "?";
}

// A blocking loopback client with deadlines everywhere: sends stall for at
// most kWait (SO_SNDTIMEO), reads wait with poll().
class RawClient {
 public:
  explicit RawClient(std::uint16_t port, const char* from = "127.0.0.1")
      : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    timeval send_timeout{.tv_sec = std::chrono::seconds(kWait).count(), .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    sockaddr_in source{};
    source.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &source.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
      ::close(fd_);
      throw std::runtime_error(std::string("cannot bind a client socket to ") + from);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
    connected_at_ = Clock::now();
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// False when not every byte went out (the server closed, or stopped reading for kWait).
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Waits up to `timeout` for bytes or the end of the connection, and takes what came.
  void pump(Clock::duration timeout) {
    if (end_ != End::kOpen) return;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout);
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(std::max(ms, 0ms).count())) <= 0) return;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      received_.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      end_ = End::kEof;
    } else if (errno == ECONNRESET) {
      end_ = End::kReset;
    }
  }

  /// The next complete response, or nullopt when the connection ends or `timeout` passes first.
  std::optional<Response> response(Clock::duration timeout = kWait) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      http::response_parser<http::string_body> parser;
      parser.eager(true);
      std::string_view rest = std::string_view(received_).substr(consumed_);
      beast::error_code ec;
      while (!rest.empty() && !parser.is_done()) {
        const std::size_t used = parser.put(net::buffer(rest.data(), rest.size()), ec);
        if (ec || used == 0) break;
        rest.remove_prefix(used);
      }
      if (ec && ec != http::error::need_more) {
        ADD_FAILURE() << "the server sent something that is not an HTTP response (" << ec.message()
                      << "): " << received_.substr(consumed_);
        return std::nullopt;
      }
      if (parser.is_done()) {
        consumed_ = received_.size() - rest.size();
        return parser.release();
      }
      if (end_ != End::kOpen || Clock::now() >= deadline) return std::nullopt;
      pump(deadline - Clock::now());
    }
  }

  /// How the connection stands once the server ends it or `timeout` passes.
  End wait_closed(Clock::duration timeout = kWait) {
    const auto deadline = Clock::now() + timeout;
    while (end_ == End::kOpen && Clock::now() < deadline) pump(deadline - Clock::now());
    return end_;
  }

  [[nodiscard]] End end() const { return end_; }
  /// Everything the server sent on this connection.
  [[nodiscard]] const std::string& received() const { return received_; }
  [[nodiscard]] Clock::time_point connected_at() const { return connected_at_; }

 private:
  int fd_;
  Clock::time_point connected_at_;
  std::string received_;
  std::size_t consumed_ = 0;  // bytes of received_ returned as responses
  End end_ = End::kOpen;
};

std::string authorized_get(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
         std::string(kKey) + "\r\n\r\n";
}

// A head for POST /api/emails announcing a body of `length` bytes.
std::string post_head(std::size_t length) {
  return "POST /api/emails HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
         std::string(kKey) +
         "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + std::to_string(length) +
         "\r\n\r\n";
}

// What the drip ended with: how, and how long after the client connected.
struct Cutoff {
  End end = End::kOpen;
  Clock::duration after{};
};

// Sends `lead` and then 'x' for ever, one byte every kDripInterval, until the
// server ends the connection or kGiveUp passes; runs `meanwhile` once, after
// the third byte.
Cutoff drip(RawClient& client, std::string_view lead, const std::function<void()>& meanwhile) {
  std::size_t sent = 0;
  while (Clock::now() - client.connected_at() < kGiveUp) {
    const char byte = sent < lead.size() ? lead[sent] : 'x';
    client.send(std::string_view(&byte, 1));
    if (++sent == 3) meanwhile();
    client.pump(kDripInterval);  // paces the drip, and sees the server's close at once
    if (client.end() != End::kOpen) break;
  }
  return {client.end(), Clock::now() - client.connected_at()};
}

class HttpServerLimits : public ::testing::Test {
 protected:
  // The one place that builds the server.
  void start(HttpLimits limits = kShortLimits) {
    server_ = std::make_unique<HttpServer>(
        pool_.front(), net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), 0), context_,
        limits, nullptr, pool_.picker());
    server_->start();
    pool_.start({});
  }

  // The server answers held long-polls as it stops; the store (whose watches
  // post to the pool's io_contexts) stops while those still exist.
  void TearDown() override {
    if (server_) server_->stop();
    pool_.finish(kWait, [] {});
    store_.stop();
  }

  [[nodiscard]] std::uint16_t port() const { return server_->local_endpoint().port(); }

  /// A client from `from` in the middle of a request (a long-poll the server
  /// holds), so it is never closed to make room; see wait_until_waiting().
  std::unique_ptr<RawClient> busy_client(const char* from = "127.0.0.1",
                                         std::chrono::milliseconds wait = 20s) {
    auto client = std::make_unique<RawClient>(port(), from);
    client->send(post_head(0));
    const auto created = client->response();
    if (!created) throw std::runtime_error("POST /api/emails was not answered");
    const std::string& body = created->body();
    const std::string_view key = "\"email\":\"";
    const auto start = body.find(key) + key.size();
    const std::string email = body.substr(start, body.find('"', start) - start);
    client->send(
        authorized_get("/_local/wait?email=" + email + "&timeout=" + std::to_string(wait.count())));
    return client;
  }

  /// Until the server holds `count` long-polls (or kWait passes).
  void wait_until_waiting(std::size_t count) {
    const auto deadline = Clock::now() + kWait;
    while (store_.stats().watchers < count && Clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    ASSERT_EQ(store_.stats().watchers, count) << "the long-polls never reached the server";
  }

  /// The status a new client from `from` gets for GET /api/domains (0: no response).
  unsigned status_for_another_client(const char* from = "127.0.0.1") {
    RawClient client(port(), from);
    client.send(authorized_get("/api/domains?type=free"));
    const auto response = client.response();
    return response ? response->result_int() : 0;
  }

  /// Drips `lead` (then filler) into `dripper` one byte at a time, checking
  /// midway that another client is served and the dripper is still open;
  /// then expects it cut off, silently, at about the idle timeout, and
  /// another client served after.
  void expect_dripper_cut_off_while_others_are_served(RawClient& dripper, std::string_view lead) {
    const Cutoff cut = drip(dripper, lead, [&] {
      EXPECT_EQ(status_for_another_client(), 200u) << "another client is not served";
      dripper.pump(0ms);
      EXPECT_EQ(dripper.end(), End::kOpen) << "the dripper was cut off before the test looked";
    });
    // Each byte arrives well within the timeout: only a deadline for the whole
    // request (not one pushed back by every byte) ends this.
    EXPECT_NE(cut.end, End::kOpen)
        << "still connected after dripping for " << kGiveUp.count() << " s";
    EXPECT_GE(cut.after, kAtLeastIdle);
    EXPECT_LT(cut.after, kGiveUp);
    EXPECT_THAT(dripper.received(), IsEmpty()) << "the server closes without a response (no 408)";
    EXPECT_EQ(status_for_another_client(), 200u);
  }

  Store store_{StoreOptions{.parse = &tempmail::detail::parse_message}};
  Keyring keyring_{{std::string(kKey)}};
  Context context_{.store = store_, .keys = keyring_, .scheme = "http", .base_url = {}};
  IoPool pool_{2};  // as the server runs it: one io_context per thread
  std::unique_ptr<HttpServer> server_;
};

// --- slow and silent clients: the idle timeout bounds reading one whole request ------

TEST_F(HttpServerLimits, CutsOffAClientDrippingTheRequestHeadAtTheIdleTimeoutWhileServingOthers) {
  start();
  RawClient dripper(port());
  expect_dripper_cut_off_while_others_are_served(
      dripper, "GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
}

TEST_F(HttpServerLimits, CutsOffAClientDrippingTheRequestBodyAtTheIdleTimeoutWhileServingOthers) {
  start();
  RawClient dripper(port());
  ASSERT_TRUE(dripper.send(post_head(512)));  // a complete head, within the body limit
  expect_dripper_cut_off_while_others_are_served(dripper, "");
  EXPECT_EQ(store_.stats().mailboxes, 0u) << "the unfinished POST /api/emails was handled";
}

TEST_F(HttpServerLimits, ClosesAConnectionThatSendsNothingAfterTheIdleTimeout) {
  start();
  RawClient silent(port());
  const End end = silent.wait_closed(kGiveUp);
  const auto after = Clock::now() - silent.connected_at();
  EXPECT_EQ(end, End::kEof) << "the connection is " << describe(end);
  EXPECT_GE(after, kAtLeastIdle);
  EXPECT_LT(after, kGiveUp);
  EXPECT_THAT(silent.received(), IsEmpty());
}

TEST_F(HttpServerLimits, KeepsAConnectionAliveAfterAResponseAndClosesItOnceIdle) {
  start();
  RawClient client(port());
  ASSERT_TRUE(client.send(authorized_get("/_local/health")));
  auto first = client.response();
  ASSERT_TRUE(first.has_value()) << "no response; the connection is " << describe(client.end());
  EXPECT_EQ(first->result_int(), 200u);
  EXPECT_TRUE(first->keep_alive());
  // Within the timeout the same connection serves the next request...
  const auto second_sent = Clock::now();
  ASSERT_TRUE(client.send(authorized_get("/_local/health")));
  auto second = client.response();
  ASSERT_TRUE(second.has_value()) << "no response; the connection is " << describe(client.end());
  EXPECT_EQ(second->result_int(), 200u);
  // ...and left idle after it, the connection is closed.
  const End end = client.wait_closed(kGiveUp);
  const auto after = Clock::now() - second_sent;
  EXPECT_EQ(end, End::kEof) << "the connection is " << describe(end);
  EXPECT_GE(after, kAtLeastIdle);
  EXPECT_LT(after, kGiveUp);
}

// --- too much: the head and body limits -----------------------------------------

TEST_F(HttpServerLimits, Answers431ToARequestHeadOverTheLimitAndCloses) {
  start();
  RawClient client(port());
  client.send("GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(4096, 'a') +
              "\r\n\r\n");
  const auto response = client.response();
  ASSERT_TRUE(response.has_value()) << "no response; the connection is " << describe(client.end());
  EXPECT_EQ(response->result_int(), 431u);
  EXPECT_FALSE(response->keep_alive());
  EXPECT_THAT(response->body(), HasSubstr("larger than 1 KiB"));
  EXPECT_NE(client.wait_closed(), End::kOpen);
  EXPECT_EQ(status_for_another_client(), 200u);
}

TEST_F(HttpServerLimits, CutsOffAOneMegabyteRequestHeadAndServesTheNextClient) {
  start();
  RawClient client(port());
  // A head that never ends: the server stops reading it at the limit, so the
  // send fails (or stalls into the kernel's buffers) rather than being read.
  client.send("GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " +
              std::string(std::size_t{1} << 20, 'a'));
  const auto response = client.response();
  ASSERT_TRUE(response.has_value()) << "no response; the connection is " << describe(client.end());
  EXPECT_EQ(response->result_int(), 431u);
  EXPECT_NE(client.wait_closed(), End::kOpen);
  EXPECT_EQ(status_for_another_client(), 200u);
}

TEST_F(HttpServerLimits, Answers413ToADeclaredBodyOverTheLimitAndCloses) {
  start();
  RawClient client(port());
  client.send(post_head(4096) + std::string(4096, 'x'));
  const auto response = client.response();
  ASSERT_TRUE(response.has_value()) << "no response; the connection is " << describe(client.end());
  EXPECT_EQ(response->result_int(), 413u);
  EXPECT_FALSE(response->keep_alive());
  EXPECT_NE(client.wait_closed(), End::kOpen);
  EXPECT_EQ(store_.stats().mailboxes, 0u) << "the oversized POST /api/emails was handled";
  EXPECT_EQ(status_for_another_client(), 200u);
}

TEST_F(HttpServerLimits, Answers413ToAChunkedBodyThatGrowsOverTheLimitAndCloses) {
  start();
  RawClient client(port());
  std::string request = "POST /api/emails HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                        std::string(kKey) + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) request += "200\r\n" + std::string(512, 'x') + "\r\n";
  request += "0\r\n\r\n";
  client.send(request);
  const auto response = client.response();
  ASSERT_TRUE(response.has_value()) << "no response; the connection is " << describe(client.end());
  EXPECT_EQ(response->result_int(), 413u);
  EXPECT_NE(client.wait_closed(), End::kOpen);
  EXPECT_EQ(status_for_another_client(), 200u);
}

// --- too many: the connection caps ---------------------------------------------------

TEST_F(HttpServerLimits, ClosesAConnectionOverThePerAddressCapAndServesOtherAddresses) {
  start({.idle_timeout = 30s, .max_connections_per_address = 3});
  // Busy connections: idle ones would make room (NewcomerAtACapClosesTheLongestIdle...).
  // The last one's long-poll ends after 3 s, so that the server then sees it closed.
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 2; ++i) held.push_back(busy_client());
  held.push_back(busy_client("127.0.0.1", 3s));
  wait_until_waiting(3);
  RawClient fourth(port());
  EXPECT_EQ(fourth.wait_closed(kGiveUp), End::kEof)
      << "over the cap, the connection is closed at once";
  EXPECT_THAT(fourth.received(), IsEmpty());
  EXPECT_EQ(status_for_another_client("127.0.0.2"), 200u);
  // A connection that ends gives its place back.
  held.pop_back();
  const auto deadline = Clock::now() + kWait;
  unsigned status = 0;
  while (status != 200 && Clock::now() < deadline) status = status_for_another_client();
  EXPECT_EQ(status, 200u) << "the closed connection's place was never freed";
}

TEST_F(HttpServerLimits, ClosesAConnectionOverTheTotalCap) {
  start({.idle_timeout = 30s, .max_connections = 2});
  const auto first = busy_client();
  const auto second = busy_client("127.0.0.2");
  wait_until_waiting(2);
  RawClient third(port(), "127.0.0.3");
  EXPECT_EQ(third.wait_closed(kGiveUp), End::kEof)
      << "over the cap, the connection is closed at once";
  EXPECT_THAT(third.received(), IsEmpty());
}

// Issue 16: at a cap, a keep-alive connection idle between requests makes
// room for a newcomer (the longest-idle one), as web servers do.
TEST_F(HttpServerLimits, NewcomerAtACapClosesTheLongestIdleConnectionNotABusyOne) {
  start({.idle_timeout = 30s, .max_connections_per_address = 3});
  const auto busy = busy_client();
  wait_until_waiting(1);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 2; ++i) {
    idle.push_back(std::make_unique<RawClient>(port()));
    idle.back()->send(authorized_get("/_local/health"));
    ASSERT_TRUE(idle.back()->response().has_value()) << "connection " << i + 1 << " not served";
  }
  EXPECT_EQ(status_for_another_client(), 200u) << "a newcomer was refused at the cap";
  EXPECT_EQ(idle[0]->wait_closed(kGiveUp), End::kEof) << "the longest-idle one was not closed";
  EXPECT_EQ(store_.stats().watchers, 1u) << "the busy connection was closed";
  EXPECT_EQ(busy->end(), End::kOpen);
}

}  // namespace
}  // namespace tempmail::local::detail
