// The HTTP(S) listener, after Beast's advanced_server example: a listener that
// accepts, one session per connection with its own deadline (tcp_stream's
// timer), keep-alive, and handle_request for everything but the long-poll,
// which the session carries out with a timer and a store watch.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>

#include "local/http/handler.hpp"
#include "local/io_pool.hpp"

namespace tempmail::local::detail {

struct HttpLimits {
  std::size_t header_limit = 16 * 1024;            // larger request head: 431
  std::size_t body_limit = std::size_t{26} << 20;  // larger body: 413
  std::chrono::seconds idle_timeout{60};           // no complete request for this long: close
  std::size_t max_connections = 4096;              // more: closed at once
  std::size_t max_connections_per_address = 256;   // from one client address: closed at once
};

class HttpServer {
 public:
  /// Binds and listens (throws boost::system::system_error when it cannot);
  /// does not accept yet. `context` must outlive the server. `tls`: serve
  /// HTTPS with it (must outlive the server), or nullptr for plain HTTP. It
  /// accepts on `ioc`; each connection runs on `sessions()` (empty: on `ioc`).
  HttpServer(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint,
             Context& context, HttpLimits limits, boost::asio::ssl::context* tls,
             ContextPicker sessions = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;
  void start();
  /// Stops accepting; idle connections close, a request being handled gets
  /// its response first (with Connection: close), a long-poll answers now.
  /// Safe from any thread.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tempmail::local::detail
