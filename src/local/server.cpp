// tempmail::local::Server: the store, the HTTP(S) API and the SMTP listener on
// `threads` I/O threads, each with its own io_context (local/io_pool.hpp).
#include "tempmail/local/server.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/system_error.hpp>
#include <charconv>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "local/http/auth.hpp"
#include "local/http/handler.hpp"
#include "local/http/http_server.hpp"
#include "local/http/log.hpp"
#include "local/io_pool.hpp"
#include "local/smtp/smtp_server.hpp"
#include "local/store/store.hpp"
#include "mime/parse.hpp"

namespace tempmail::local {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// How long stop() lets SMTP sessions in the middle of DATA finish.
constexpr auto kDrainTimeout = 10s;

tcp::endpoint parse_listen(const std::string& field, const std::string& text) {
  auto bad = [&] {
    return std::invalid_argument("ServerOptions::" + field + " '" + text +
                                 "' is not HOST:PORT with an IP address host and a port from 0 to "
                                 "65535 (e.g. 127.0.0.1:8025, [::1]:0; port 0 picks a free port)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw bad();
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535)
    throw bad();
  boost::system::error_code addr_ec;
  auto address = net::ip::make_address(host, addr_ec);
  if (addr_ec) throw bad();
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

// The host a client on this machine uses to reach `endpoint`.
std::string reachable_host(const tcp::endpoint& endpoint) {
  auto a = endpoint.address();
  if (a.is_unspecified()) return a.is_v6() ? "::1" : "127.0.0.1";
  return a.to_string();
}

std::string url_host(const tcp::endpoint& endpoint) {
  std::string host = reachable_host(endpoint);
  return endpoint.address().is_v6() ? "[" + host + "]" : host;
}

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions opts) : options(std::move(opts)) {
    const tcp::endpoint http_at = parse_listen("http_listen", options.http_listen);
    const tcp::endpoint smtp_at = parse_listen("smtp_listen", options.smtp_listen);
    if (options.api_keys.empty()) {
      for (const auto& [field, ep] :
           {std::pair{"http_listen", http_at}, std::pair{"smtp_listen", smtp_at}})
        if (!ep.address().is_loopback())
          throw std::invalid_argument(
              std::string("ServerOptions::") + field + " " + ep.address().to_string() +
              " is not a loopback address and no API key is configured: pass an API key "
              "(ServerOptions::api_keys, or tempmail-server --api-key KEY) so that only its "
              "holders "
              "can use the server, or listen on 127.0.0.1");
      keys = {kLocalDevKey};
    } else {
      keys = options.api_keys;
    }
    if (options.threads == 0)
      throw std::invalid_argument("ServerOptions::threads must be at least 1");
    pool.emplace(options.threads);
    if (options.tls_cert_file.empty() != options.tls_key_file.empty())
      throw std::invalid_argument(
          "ServerOptions::tls_cert_file and tls_key_file go together: give both (PEM files) or "
          "neither");
    if (!options.tls_cert_file.empty()) {
      tls.emplace(net::ssl::context::tls_server);
      tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1);
      boost::system::error_code ec;
      tls->use_certificate_chain_file(options.tls_cert_file.string(), ec);
      if (ec)
        throw std::runtime_error("cannot load the TLS certificate chain '" +
                                 options.tls_cert_file.string() + "': " + ec.message() +
                                 " (expected PEM, server certificate first)");
      tls->use_private_key_file(options.tls_key_file.string(), net::ssl::context::pem, ec);
      if (ec)
        throw std::runtime_error("cannot load the TLS private key '" +
                                 options.tls_key_file.string() + "': " + ec.message() +
                                 " (expected an unencrypted PEM key matching the certificate)");
    }

    keyring.emplace(keys);
    store.emplace(detail::StoreOptions{.db_path = options.db_path,
                                       .domains = options.domains,
                                       .mailbox_ttl = options.mailbox_ttl,
                                       .monthly_quota = options.monthly_quota,
                                       .parse = &tempmail::detail::parse_message,
                                       .clock = {},
                                       .log = [](std::string_view line) { detail::log_line(line); },
                                       .fsync = options.fsync});
    context.emplace(detail::Context{
        .store = *store, .keys = *keyring, .scheme = tls ? "https" : "http", .base_url = {}});
    try {
      http.emplace(
          pool->front(), http_at, *context,
          detail::HttpLimits{.body_limit = options.max_message_bytes + (std::size_t{1} << 20)},
          tls ? &*tls : nullptr, pool->picker());
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot listen for HTTP on " + options.http_listen + ": " +
                               e.code().message() + "; pick another port (0 picks a free one)");
    }
    try {
      smtp.emplace(pool->front(), smtp_at, *store,
                   detail::SmtpLimits{.max_message_bytes = options.max_message_bytes},
                   pool->picker());
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot listen for SMTP on " + options.smtp_listen + ": " +
                               e.code().message() + "; pick another port (0 picks a free one)");
    }
    http_endpoint = http->local_endpoint();
    smtp_endpoint = smtp->local_endpoint();
    base_url = std::string(tls ? "https" : "http") + "://" + url_host(http_endpoint) + ":" +
               std::to_string(http_endpoint.port());
    context->base_url = base_url;

    http->start();
    smtp->start();
    pool->start([](std::string_view line) { detail::log_line(line); });
  }

  ~Impl() { stop(); }

  void stop() noexcept {
    std::lock_guard stop_lock(stop_mu);
    if (stopped) return;
    stopped = true;
    try {
      if (http) http->stop();
      if (smtp) smtp->stop();
    } catch (const std::exception& e) {
      detail::log_line(std::string("stopping the listeners failed: ") + e.what());
    }
    // Sessions finish the message in flight (the store is still committing);
    // each io_context then runs out of work and its thread returns.
    if (pool)
      pool->finish(kDrainTimeout,
                   [] { detail::log_line("connections still open after 10 s: closing them"); });
    if (store) store->stop();
  }

  ServerOptions options;
  std::vector<std::string> keys;
  // Declared before the I/O pool so they outlive every handler it destroys.
  std::optional<net::ssl::context> tls;
  std::optional<detail::Keyring> keyring;
  std::optional<detail::Store> store;
  std::optional<detail::Context> context;
  std::optional<detail::IoPool> pool;
  std::optional<detail::HttpServer> http;
  std::optional<detail::SmtpServer> smtp;
  tcp::endpoint http_endpoint;
  tcp::endpoint smtp_endpoint;
  std::string base_url;
  std::mutex stop_mu;
  bool stopped = false;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Server::~Server() { stop(); }

std::string Server::base_url() const { return impl_->base_url; }
std::string Server::smtp_host() const { return reachable_host(impl_->smtp_endpoint); }
std::uint16_t Server::smtp_port() const { return impl_->smtp_endpoint.port(); }
std::uint16_t Server::http_port() const { return impl_->http_endpoint.port(); }
std::string Server::api_key() const { return impl_->keys.front(); }

void Server::stop() noexcept {
  if (impl_) impl_->stop();
}

}  // namespace tempmail::local
