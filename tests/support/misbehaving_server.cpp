#include "support/misbehaving_server.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

namespace tempmail::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string http_response(int status, std::string_view body, std::string_view content_type,
                          const Headers& extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                    std::string(http::obsolete_reason(static_cast<http::status>(status))) + "\r\n";
  if (!content_type.empty()) out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : extra_headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

std::string chunked_response(int status, std::string_view body, std::size_t chunk_size) {
  std::string out =
      "HTTP/1.1 " + std::to_string(status) +
      " OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size_hex[32];
  for (std::size_t pos = 0; pos < body.size(); pos += chunk_size) {
    const std::string_view chunk = body.substr(pos, chunk_size);
    std::snprintf(size_hex, sizeof size_hex, "%zx\r\n", chunk.size());
    out += size_hex;
    out += chunk;
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

std::optional<std::string> RecordedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (beast::iequals(key, name)) return value;
  return std::nullopt;
}

struct MisbehavingServer::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::uint16_t port = 0;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::deque<Step> script;
  std::vector<RecordedRequest> requests;
  std::size_t accepted = 0;
  std::size_t closed = 0;

  Step next_step() {
    std::lock_guard lock(mutex);
    if (script.empty())
      return Step::respond(http_response(500, R"({"message": "the test script ran out"})"));
    Step s = std::move(script.front());
    script.pop_front();
    return s;
  }

  void connection_ended() {
    {
      std::lock_guard lock(mutex);
      ++closed;
    }
    changed.notify_all();
  }

  asio::awaitable<void> session(tcp::socket socket, std::size_t number) {
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    for (;;) {
      http::request<http::string_body> req;
      co_await http::async_read(socket, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      RecordedRequest record{.method = std::string(req.method_string()),
                             .target = std::string(req.target()),
                             .headers = {},
                             .connection = number};
      for (const auto& field : req)
        record.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      {
        std::lock_guard lock(mutex);
        requests.push_back(std::move(record));
      }
      changed.notify_all();

      const Step step = next_step();
      if (step.kind == Step::Kind::kHang) {
        // Read (and ignore) until the client gives up and closes.
        std::array<char, 1024> sink;
        while (!ec)
          co_await socket.async_read_some(asio::buffer(sink),
                                          asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      if (!step.bytes.empty()) {
        co_await asio::async_write(socket, asio::buffer(step.bytes),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      if (step.kind != Step::Kind::kRespond) break;
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    connection_ended();
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      std::size_t number;
      {
        std::lock_guard lock(mutex);
        number = ++accepted;
      }
      asio::co_spawn(ioc, session(std::move(socket), number), asio::detached);
    }
  }
};

MisbehavingServer::MisbehavingServer(std::vector<Step> script) : impl_(std::make_unique<Impl>()) {
  for (Step& s : script) impl_->script.push_back(std::move(s));
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

MisbehavingServer::~MisbehavingServer() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t MisbehavingServer::port() const { return impl_->port; }

std::string MisbehavingServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port());
}

void MisbehavingServer::add(Step step) {
  std::lock_guard lock(impl_->mutex);
  impl_->script.push_back(std::move(step));
}

std::vector<RecordedRequest> MisbehavingServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t MisbehavingServer::connections_accepted() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted;
}

bool MisbehavingServer::wait_for_closed_connections(std::size_t n,
                                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->closed >= n; });
}

std::uint16_t unused_loopback_port() {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace tempmail::testing
