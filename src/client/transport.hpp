// HTTP/1.1 over Boost.Beast, plain or TLS, with a pool of keep-alive
// connections. Every operation is bounded: resolve, connect and handshake by
// the connect timeout, write and the whole response by the request timeout
// (each op runs on the connection's private io_context with run_until).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/retry.hpp"
#include "client/url.hpp"

namespace tempmail::detail {

struct HttpRequest {
  Method method = Method::kGet;
  std::string target;  ///< already percent-encoded: "/api/messages?email=a%2Bb@example.com"
  std::size_t body_limit = 0;
  /// How long the server may hold the request before it answers (a long-poll):
  /// added to ClientOptions::request_timeout for this request.
  std::chrono::milliseconds hold{0};
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;            ///< the whole body, unless a 2xx body went to the sink
  std::uint64_t streamed = 0;  ///< bytes handed to the sink

  /// The first header with this name (case-insensitive).
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

/// Receives a 2xx body in pieces as it arrives. Non-2xx bodies are always
/// collected in HttpResponse::body.
using BodySink = std::function<void(std::string_view chunk)>;

/// Why no response could be used. `kind` is kConnect, kTls, kTimeout,
/// kTransport, or kPermanent for a body over the limit (`too_large`).
class TransportFailure : public std::runtime_error {
 public:
  TransportFailure(FailureKind kind, bool request_sent, const std::string& what)
      : std::runtime_error(what), kind_(kind), request_sent_(request_sent) {}

  [[nodiscard]] FailureKind kind() const noexcept { return kind_; }
  [[nodiscard]] bool request_sent() const noexcept { return request_sent_; }
  bool too_large = false;
  std::size_t limit = 0;       ///< the body limit that was exceeded
  int status = 0;              ///< the status of a response that was too large
  std::uint64_t streamed = 0;  ///< bytes handed to the sink before the failure
  bool stale = false;          ///< a reused connection the server had closed
  bool plain_http = false;     ///< https:// to a server that answered in plain HTTP

 private:
  FailureKind kind_;
  bool request_sent_;
};

struct TransportOptions {
  BaseUrl base;
  std::string api_key;
  std::string user_agent;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};
  std::filesystem::path ca_file;
  std::size_t max_idle_connections = 8;
};

class Connection;

/// Thread safety: perform() may be called from several threads at once;
/// each call has a connection to itself.
class Transport {
 public:
  /// Throws std::invalid_argument naming ClientOptions.ca_file when it
  /// cannot be loaded.
  explicit Transport(TransportOptions options);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// One request and its whole response. A pooled connection the server had
  /// closed (nothing of the response arrived) is replaced and the request
  /// sent once more, whatever the method. Throws TransportFailure.
  HttpResponse perform(const HttpRequest& request,
                       std::optional<std::chrono::steady_clock::time_point> call_deadline,
                       const BodySink* sink);

  /// Idle keep-alive connections in the pool (for tests).
  [[nodiscard]] std::size_t idle_connections() const;

 private:
  std::unique_ptr<Connection> take_idle();
  void give_back(std::unique_ptr<Connection> connection);

  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tempmail::detail
