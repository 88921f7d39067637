// A scripted HTTP server on loopback for client tests: each request it
// receives is answered by the next step of its script, which may be a normal
// response or a misbehaviour (drop mid-response, close without answering,
// never answer, close a keep-alive connection right after answering).
//
//   MisbehavingServer server({Step::respond(http_response(502, "<html>...</html>", "text/html")),
//                             Step::respond(http_response(200, R"({"status": true})"))});
//   Client client({.base_url = server.base_url(), .api_key = "k"});
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tempmail::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// What the server does with one request.
struct Step {
  enum class Kind {
    kRespond,               ///< write `bytes`, keep the connection for the next request
    kRespondThenClose,      ///< write `bytes`, then close (a keep-alive the server drops)
    kCloseWithoutResponse,  ///< read the request, close without a byte of response
    kPartialThenClose,      ///< write `bytes` (a prefix of a response), then close
    kHang,                  ///< never answer; wait until the client hangs up
  };
  Kind kind = Kind::kRespond;
  std::string bytes;

  static Step respond(std::string raw) { return {Kind::kRespond, std::move(raw)}; }
  static Step respond_then_close(std::string raw) {
    return {Kind::kRespondThenClose, std::move(raw)};
  }
  static Step close_without_response() { return {Kind::kCloseWithoutResponse, {}}; }
  static Step partial_then_close(std::string raw) {
    return {Kind::kPartialThenClose, std::move(raw)};
  }
  static Step hang() { return {Kind::kHang, {}}; }
};

/// A complete HTTP/1.1 response with Content-Length.
std::string http_response(int status, std::string_view body,
                          std::string_view content_type = "application/json",
                          const Headers& extra_headers = {});
/// The same body sent with chunked transfer coding (no Content-Length).
std::string chunked_response(int status, std::string_view body, std::size_t chunk_size = 1024);

struct RecordedRequest {
  std::string method;
  std::string target;
  Headers headers;
  std::size_t connection = 0;  ///< 1 for the first connection accepted, 2 for the next, ...

  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

/// Thread safety: all members may be called from any thread while the
/// server runs on its own thread. The destructor stops it and closes every
/// connection.
class MisbehavingServer {
 public:
  explicit MisbehavingServer(std::vector<Step> script = {});
  ~MisbehavingServer();
  MisbehavingServer(const MisbehavingServer&) = delete;
  MisbehavingServer& operator=(const MisbehavingServer&) = delete;

  /// "http://127.0.0.1:PORT".
  [[nodiscard]] std::string base_url() const;
  [[nodiscard]] std::uint16_t port() const;
  /// Appends to the script. A request after the script ran out gets a 500.
  void add(Step step);
  [[nodiscard]] std::vector<RecordedRequest> requests() const;
  [[nodiscard]] std::size_t connections_accepted() const;
  /// Waits until `n` connections have ended, for at most `timeout`.
  [[nodiscard]] bool wait_for_closed_connections(std::size_t n,
                                                 std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A loopback port on which nothing listens (bound, then released).
std::uint16_t unused_loopback_port();

}  // namespace tempmail::testing
