#include "client/transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>

namespace tempmail::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kChunkBytes = 16 * 1024;

http::verb verb_of(Method m) {
  switch (m) {
    case Method::kGet:
      return http::verb::get;
    case Method::kPost:
      return http::verb::post;
    case Method::kDelete:
      return http::verb::delete_;
  }
  return http::verb::get;
}

// The errors a keep-alive connection shows when the server closed it while
// it sat in the pool.
bool is_closed_connection(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::not_connected ||
         ec == asio::error::bad_descriptor || ec == ssl::error::stream_truncated;
}

std::string describe(const error_code& ec) {
  std::string text = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    // OpenSSL's reason string, e.g. "certificate verify failed".
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason != nullptr && text.find(reason) == std::string::npos)
      text += std::string(" (") + reason + ")";
  }
  return text;
}

// The first bytes back were not a TLS record: OpenSSL reads "HTTP/1.1 400"
// as a record of an unknown version. A plain-HTTP server behind https://.
bool answered_in_plain_text(const error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST;
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (beast::iequals(key, name)) return std::string_view(value);
  return std::nullopt;
}

// One keep-alive connection. Used by one thread at a time (the pool hands it
// out); owns its io_context so a timed-out operation can be cancelled and
// drained without touching any other connection.
class Connection {
 public:
  Connection(const TransportOptions& options, ssl::context* tls)
      : options_(options), resolver_(ioc_) {
    if (tls != nullptr) {
      tls_.emplace(ioc_, *tls);
    } else {
      plain_.emplace(ioc_);
    }
  }

  ~Connection() {
    error_code ignored;
    lowest().socket().close(ignored);
  }

  [[nodiscard]] bool reused() const { return exchanges_ > 0; }

  // Resolve, connect and (for https) handshake by `deadline`.
  void connect(Clock::time_point deadline, bool call_deadline_binds) {
    const std::string where = options_.base.host_header;
    bool timed_out = false;
    error_code ec;
    error_code not_ip;
    const asio::ip::address ip = asio::ip::make_address(options_.base.host, not_ip);
    if (!not_ip) {
      // An IP literal needs no resolver (and no resolver thread).
      ec = run(
          [&](auto handler) {
            lowest().async_connect(tcp::endpoint(ip, options_.base.port), handler);
          },
          deadline, timed_out);
    } else {
      tcp::resolver::results_type endpoints;
      ec = run(
          [&](auto handler) {
            resolver_.async_resolve(
                options_.base.host, std::to_string(options_.base.port),
                [&endpoints, handler](error_code e, tcp::resolver::results_type r) {
                  endpoints = std::move(r);
                  handler(e);
                });
          },
          deadline, timed_out);
      if (timed_out)
        throw timeout("resolving " + options_.base.host, false, call_deadline_binds, true);
      if (ec)
        throw TransportFailure(FailureKind::kConnect, false,
                               "could not resolve " + options_.base.host + ": " + describe(ec));
      ec = run(
          [&](auto handler) {
            lowest().async_connect(endpoints,
                                   [handler](error_code e, const tcp::endpoint&) { handler(e); });
          },
          deadline, timed_out);
    }
    if (timed_out) throw timeout("connecting to " + where, false, call_deadline_binds, true);
    if (ec)
      throw TransportFailure(FailureKind::kConnect, false,
                             "could not connect to " + where + ": " + describe(ec));
    lowest().socket().set_option(tcp::no_delay(true), ec);

    if (tls_) {
      SSL* ssl = tls_->native_handle();
      // SNI carries host names only, never IP literals (RFC 6066, section 3).
      if (not_ip && SSL_set_tlsext_host_name(ssl, options_.base.host.c_str()) != 1)
        throw TransportFailure(FailureKind::kTls, false, "could not set the TLS server name");
      tls_->set_verify_mode(ssl::verify_peer);
      // OpenSSL's own check (an IP literal is matched against IP SANs), so a
      // mismatch is reported as such in the verify result.
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (SSL_set1_host(ssl, options_.base.host.c_str()) != 1)
        throw TransportFailure(FailureKind::kTls, false,
                               "could not set the TLS host name to verify");
      ec = run([&](auto handler) { tls_->async_handshake(ssl::stream_base::client, handler); },
               deadline, timed_out);
      if (timed_out)
        throw timeout("the TLS handshake with " + where, false, call_deadline_binds, true);
      if (ec) {
        if (answered_in_plain_text(ec)) {
          TransportFailure f(FailureKind::kTls, false,
                             "TLS handshake with " + where +
                                 " failed: the server answered in plain HTTP, not TLS (" +
                                 describe(ec) + ")");
          f.plain_http = true;
          throw f;
        }
        std::string text = "TLS handshake with " + where + " failed: " + describe(ec);
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK)
          text += std::string("; certificate: ") + X509_verify_cert_error_string(verify);
        throw TransportFailure(FailureKind::kTls, false, text);
      }
    }
  }

  // Writes the request and reads the whole response by `deadline`. Sets
  // `keep_alive` when the connection may be used again.
  HttpResponse exchange(const HttpRequest& request, Clock::time_point deadline,
                        bool call_deadline_binds, const BodySink* sink, bool& keep_alive) {
    keep_alive = false;
    http::request<http::empty_body> req{verb_of(request.method), request.target, 11};
    req.set(http::field::host, options_.base.host_header);
    req.set(http::field::authorization, "Bearer " + options_.api_key);
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, options_.user_agent);
    if (request.method == Method::kPost) req.content_length(0);

    bool timed_out = false;
    error_code ec = run(
        [&](auto handler) {
          with_stream([&](auto& stream) {
            http::async_write(stream, req, [handler](error_code e, std::size_t) { handler(e); });
          });
        },
        deadline, timed_out);
    if (timed_out) throw timeout("sending the request", true, call_deadline_binds, false);
    if (ec) {
      TransportFailure f(FailureKind::kTransport, true,
                         "the connection to " + options_.base.host_header +
                             " failed while sending the request: " + describe(ec));
      f.stale = reused() && is_closed_connection(ec);
      throw f;
    }

    http::response_parser<http::buffer_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(request.body_limit);
    ec = run(
        [&](auto handler) {
          with_stream([&](auto& stream) {
            http::async_read_header(stream, buffer_, parser,
                                    [handler](error_code e, std::size_t) { handler(e); });
          });
        },
        deadline, timed_out);
    if (timed_out) throw timeout("waiting for the response", true, call_deadline_binds, false);
    if (ec == http::error::body_limit) throw too_large(request, parser.get().result_int(), 0);
    if (ec) {
      TransportFailure f(FailureKind::kTransport, true,
                         "the connection to " + options_.base.host_header +
                             " failed before a response arrived: " + describe(ec));
      f.stale = reused() && !parser.got_some() && is_closed_connection(ec);
      throw f;
    }

    HttpResponse response;
    response.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get())
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    const bool to_sink = sink != nullptr && response.status >= 200 && response.status <= 299;

    std::array<char, kChunkBytes> chunk;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      ec = run(
          [&](auto handler) {
            with_stream([&](auto& stream) {
              http::async_read(stream, buffer_, parser,
                               [handler](error_code e, std::size_t) { handler(e); });
            });
          },
          deadline, timed_out);
      const std::size_t n = chunk.size() - parser.get().body().size;
      if (n > 0 && !timed_out &&
          (!ec || ec == http::error::need_buffer || ec == http::error::body_limit)) {
        if (to_sink) {
          (*sink)(std::string_view(chunk.data(), n));
          response.streamed += n;
        } else {
          response.body.append(chunk.data(), n);
        }
      }
      if (timed_out) {
        TransportFailure f = timeout("reading the response body", true, call_deadline_binds, false);
        f.streamed = response.streamed;
        throw f;
      }
      if (ec == http::error::need_buffer) continue;
      if (ec == http::error::body_limit)
        throw too_large(request, response.status, response.streamed);
      if (ec) {
        TransportFailure f(FailureKind::kTransport, true,
                           "the connection to " + options_.base.host_header +
                               " broke in the middle of the response (" + describe(ec) + ")");
        f.streamed = response.streamed;
        throw f;
      }
    }
    keep_alive = parser.get().keep_alive();
    ++exchanges_;
    return response;
  }

  // True when the idle socket has something to read: the server closed it
  // (EOF) or sent bytes nobody asked for. Either way it cannot be reused.
  [[nodiscard]] bool readable_while_idle() {
    pollfd p{};
    p.fd = lowest().socket().native_handle();
    p.events = POLLIN;
    return ::poll(&p, 1, 0) != 0;
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }

  // Starts an operation (`initiate` receives a handler taking error_code)
  // and runs this connection's io_context until it completes or `deadline`
  // passes; then closes the socket, which cancels the operation, and drains.
  template <class Initiate>
  error_code run(Initiate&& initiate, Clock::time_point deadline, bool& timed_out) {
    std::optional<error_code> result;
    initiate([&result](error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    if (Clock::now() < deadline) ioc_.run_until(deadline);
    timed_out = false;
    if (!result) {
      timed_out = true;
      resolver_.cancel();
      error_code ignored;
      lowest().socket().close(ignored);
      ioc_.restart();
      ioc_.run();
    }
    return result.value_or(error_code(asio::error::timed_out));
  }

  TransportFailure timeout(const std::string& during, bool sent, bool call_deadline_binds,
                           bool connecting) {
    std::string text = "timed out " + during + " (" + options_.base.host_header + "): ";
    if (call_deadline_binds) {
      text += "the call's deadline (CallOptions::deadline) passed";
    } else if (connecting) {
      text += "ClientOptions::connect_timeout of " +
              std::to_string(options_.connect_timeout.count()) + " ms ran out";
    } else {
      text += "ClientOptions::request_timeout of " +
              std::to_string(options_.request_timeout.count()) + " ms ran out";
    }
    return TransportFailure(FailureKind::kTimeout, sent, text);
  }

  static TransportFailure too_large(const HttpRequest& request, unsigned status,
                                    std::uint64_t streamed) {
    TransportFailure f(FailureKind::kPermanent, true,
                       "the response body is larger than the limit of " +
                           std::to_string(request.body_limit) + " bytes");
    f.too_large = true;
    f.limit = request.body_limit;
    f.status = static_cast<int>(status);
    f.streamed = streamed;
    return f;
  }

  const TransportOptions& options_;
  asio::io_context ioc_{1};
  tcp::resolver resolver_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  int exchanges_ = 0;
};

struct Transport::State {
  TransportOptions options;
  std::optional<ssl::context> tls;
  mutable std::mutex mutex;
  std::vector<std::unique_ptr<Connection>> idle;
};

Transport::Transport(TransportOptions options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  if (state_->options.base.https) {
    ssl::context& ctx = state_->tls.emplace(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (state_->options.ca_file.empty()) {
      ctx.set_default_verify_paths(ec);
      if (ec)
        throw std::invalid_argument("the system's CA certificates could not be loaded (" +
                                    ec.message() +
                                    "); set ClientOptions.ca_file to a PEM file of trusted CAs");
    } else {
      ctx.load_verify_file(state_->options.ca_file.string(), ec);
      if (ec)
        throw std::invalid_argument("ClientOptions.ca_file \"" + state_->options.ca_file.string() +
                                    "\" could not be loaded as PEM certificates (" + describe(ec) +
                                    ")");
    }
  }
}

Transport::~Transport() = default;

std::size_t Transport::idle_connections() const {
  std::lock_guard lock(state_->mutex);
  return state_->idle.size();
}

std::unique_ptr<Connection> Transport::take_idle() {
  for (;;) {
    std::unique_ptr<Connection> c;
    {
      std::lock_guard lock(state_->mutex);
      if (state_->idle.empty()) return nullptr;
      c = std::move(state_->idle.back());
      state_->idle.pop_back();
    }
    if (!c->readable_while_idle()) return c;
    // Closed by the server while idle: dropped here, outside the lock.
  }
}

void Transport::give_back(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(state_->mutex);
  if (state_->idle.size() < state_->options.max_idle_connections)
    state_->idle.push_back(std::move(connection));
}

HttpResponse Transport::perform(const HttpRequest& request,
                                std::optional<Clock::time_point> call_deadline,
                                const BodySink* sink) {
  const TransportOptions& o = state_->options;
  ssl::context* tls = state_->tls ? &*state_->tls : nullptr;
  auto bounded = [&](std::chrono::milliseconds timeout, bool& call_binds) {
    Clock::time_point d = Clock::now() + timeout;
    call_binds = call_deadline && *call_deadline < d;
    return call_binds ? *call_deadline : d;
  };
  auto connect_new = [&] {
    auto c = std::make_unique<Connection>(o, tls);
    bool call_binds = false;
    const Clock::time_point d = bounded(o.connect_timeout, call_binds);
    c->connect(d, call_binds);
    return c;
  };

  std::unique_ptr<Connection> connection = take_idle();
  if (!connection) connection = connect_new();
  for (int round = 0;; ++round) {
    bool keep_alive = false;
    bool call_binds = false;
    const Clock::time_point d = bounded(o.request_timeout + request.hold, call_binds);
    try {
      HttpResponse response = connection->exchange(request, d, call_binds, sink, keep_alive);
      if (keep_alive) give_back(std::move(connection));
      return response;
    } catch (const TransportFailure& f) {
      // Rationale: a server may close an idle keep-alive connection at any
      // moment (RFC 9112, section 9.6); when nothing of the response came
      // back the request was not processed, so it is sent again once on a
      // fresh connection, POST included.
      if (!f.stale || round > 0) throw;
    }
    connection = connect_new();
  }
}

}  // namespace tempmail::detail
