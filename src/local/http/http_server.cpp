#include "local/http/http_server.hpp"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "local/connection_limiter.hpp"
#include "local/listener.hpp"
#include "local/log.hpp"

namespace tempmail::local::detail {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

using PlainStream = beast::tcp_stream;
using TlsStream = ssl::stream<beast::tcp_stream>;

struct Shared {
  Shared(Context& c, HttpLimits l, ssl::context* t) : context(c), limits(l), tls(t) {}
  Context& context;
  HttpLimits limits;
  ssl::context* tls;
  std::atomic<bool> stopping{false};
};

// "16 KiB", or "1000 bytes" when not a whole number of KiB.
std::string size_text(std::size_t bytes) {
  if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

// A response made without a parsed request (the request could not be read).
Response bare_error(http::status status, std::string_view message) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::server, "tempmail-local");
  std::string body = R"({"status":false,"message":")";
  body += message;  // our own text, no characters that need escaping
  body += "\"}";
  res.body() = std::move(body);
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

template <class Stream>
class Session : public ListenedSession, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(Stream stream, std::shared_ptr<Shared> shared, ConnectionLimiter::Slot slot)
      : stream_(std::move(stream)),
        shared_(std::move(shared)),
        wait_timer_(stream_.get_executor()),
        slot_(std::move(slot)) {}

  void run() {
    // A newcomer over a connection cap may ask this session to close while it
    // waits for a request (ConnectionLimiter); it goes through the strand.
    slot_.on_evict([weak = this->weak_from_this(), executor = stream_.get_executor()] {
      net::post(executor, [weak] {
        if (auto s = weak.lock()) s->on_evict();
      });
    });
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->start(); });
  }

  void request_stop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->on_shutdown(); });
  }

 private:
  // kStarting: TLS handshake; kIdle: waiting for a request's first byte;
  // kReading: the rest of the request.
  enum class Phase { kStarting, kIdle, kReading, kHandling, kWaiting, kWriting, kClosed };
  // What one read asks for while idle; the request's head fits in most cases.
  static constexpr std::size_t kFirstRead = 8192;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  auto self() { return this->shared_from_this(); }

  void start() {
    if constexpr (kTls) {
      slot_.idle();  // no request has begun: the handshake may make room for a newcomer
      lowest().expires_after(shared_->limits.idle_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&Session::on_handshake, self()));
    } else {
      do_read();
    }
  }

  void on_handshake(beast::error_code ec) {
    slot_.busy();
    if (ec) return;  // a client that cannot do TLS with us (or evicted); nothing to answer
    do_read();
  }

  // A newcomer needs this session's place: close if no request has begun
  // (bytes already in the socket's buffer, not yet read, have begun one).
  void on_evict() {
    beast::error_code ec;
    const bool unread = lowest().socket().available(ec) > 0 && !ec;
    if ((phase_ == Phase::kStarting || phase_ == Phase::kIdle) && !unread) {
      evicted_ = true;
      lowest().cancel();
    } else {
      slot_.keep();
    }
  }

  void on_shutdown() {
    if (phase_ == Phase::kStarting || phase_ == Phase::kIdle || phase_ == Phase::kReading) {
      lowest().cancel();
    } else if (phase_ == Phase::kWaiting) {
      wait_timer_.cancel();
    }
  }

  // The idle timeout covers the wait for the first byte and the whole request.
  void do_read() {
    if (shared_->stopping) return close();
    lowest().expires_after(shared_->limits.idle_timeout);
    if (buffer_.size() > 0) return read_request();  // pipelined: a request has begun
    // Idle until a byte arrives; the request is parsed from there (one read
    // either way: http::async_read finds the bytes in buffer_).
    phase_ = Phase::kIdle;
    slot_.idle();
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            beast::bind_front_handler(&Session::on_first_bytes, self()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    slot_.busy();
    buffer_.commit(n);
    if (n == 0 || (ec && ec != net::error::eof)) return close();  // gone, timed out, evicted
    // Bytes that came although an eviction was on its way: serve them, stay.
    if (evicted_) slot_.keep();
    evicted_ = false;
    read_request();
  }

  void read_request() {
    phase_ = Phase::kReading;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.header_limit));
    parser_->body_limit(shared_->limits.body_limit);
    // Most requests arrive whole in the first read: parse them here, as
    // http::async_read would, minus its posted completion (3% of a request's
    // instructions under callgrind).
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec || used == 0) break;
    }
    if (ec == http::error::need_more) ec = {};
    if (ec || parser_->is_done()) return on_read(ec, 0);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, self()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == http::error::partial_message)
      return close();
    if (ec == http::error::header_limit)
      return send(bare_error(http::status::request_header_fields_too_large,
                             "The request head is larger than " +
                                 size_text(shared_->limits.header_limit) +
                                 ": send fewer or shorter headers"));
    if (ec == http::error::body_limit)
      return send(bare_error(http::status::payload_too_large,
                             "The request body is larger than this server accepts"));
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category())
        return send(bare_error(http::status::bad_request, "The request is not valid HTTP/1.1"));
      return close();
    }
    request_ = parser_->release();
    if (is_wait_request(request_)) return start_wait();
    phase_ = Phase::kHandling;
    send(handle_request(request_, shared_->context));
  }

  void start_wait() {
    phase_ = Phase::kHandling;
    auto r = begin_wait(request_, shared_->context);
    if (auto* res = std::get_if<Response>(&r)) return send(std::move(*res));
    plan_ = std::get<WaitPlan>(std::move(r));
    phase_ = Phase::kWaiting;
    const std::uint64_t generation = ++wait_generation_;
    std::weak_ptr<Session> weak = self();
    auto executor = stream_.get_executor();
    watch_ =
        shared_->context.store.watch(plan_.account, plan_.address, [weak, executor, generation] {
          net::post(executor, [weak, generation] {
            auto s = weak.lock();
            if (s && s->phase_ == Phase::kWaiting && s->wait_generation_ == generation)
              s->wait_timer_.cancel();
          });
        });
    // Registered first, checked second: a commit in between is not missed.
    auto now = shared_->context.store.messages_after(plan_.account, plan_.address, plan_.after_seq);
    if (watch_ == 0 || !now.ok() || !now.value.messages.empty() || shared_->stopping)
      return on_wait_done({});
    wait_timer_.expires_after(plan_.timeout);
    wait_timer_.async_wait(beast::bind_front_handler(&Session::on_wait_done, self()));
  }

  void on_wait_done(beast::error_code) {
    if (phase_ != Phase::kWaiting) return;
    phase_ = Phase::kHandling;
    if (watch_ != 0) shared_->context.store.unwatch(watch_);
    watch_ = 0;
    send(finish_wait(request_, shared_->context, plan_));
  }

  void send(Response res) {
    phase_ = Phase::kWriting;
    const bool keep = res.keep_alive() && !shared_->stopping;
    res.keep_alive(keep);
    response_ = std::move(res);
    lowest().expires_after(shared_->limits.idle_timeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&Session::on_write, self(), keep));
  }

  void on_write(bool keep, beast::error_code ec, std::size_t) {
    response_.reset();
    if (ec) return;  // the peer went away: the socket closes with the session
    if (!keep) return close();
    do_read();
  }

  void close() {
    phase_ = Phase::kClosed;
    if constexpr (kTls) {
      lowest().expires_after(5s);
      stream_.async_shutdown([self = self()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Stream stream_;
  std::shared_ptr<Shared> shared_;
  net::steady_timer wait_timer_;
  ConnectionLimiter::Slot slot_;  // this connection's place, freed with the session
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
  std::optional<Response> response_;
  WaitPlan plan_;
  Store::WatchId watch_ = 0;
  std::uint64_t wait_generation_ = 0;
  Phase phase_ = Phase::kStarting;
  bool evicted_ = false;  // asked to close for a newcomer while idle
};

}  // namespace

struct HttpServer::Impl {
  Impl(net::io_context& ioc, const tcp::endpoint& endpoint, std::shared_ptr<Shared> shared_state,
       ContextPicker sessions)
      : shared(std::move(shared_state)),
        listener(ioc, endpoint, shared->limits.max_connections,
                 shared->limits.max_connections_per_address, std::move(sessions), "HTTP",
                 [shared = shared](tcp::socket socket, ConnectionLimiter::Slot slot) {
                   return start_session(shared, std::move(socket), std::move(slot));
                 },
                 [](tcp::socket socket) {
                   beast::error_code ignored;
                   socket.close(ignored);
                 }) {}

  static std::shared_ptr<ListenedSession> start_session(const std::shared_ptr<Shared>& shared,
                                                        tcp::socket socket,
                                                        ConnectionLimiter::Slot slot) {
    std::shared_ptr<ListenedSession> session;
    if (shared->tls != nullptr) {
      auto s = std::make_shared<Session<TlsStream>>(TlsStream(std::move(socket), *shared->tls),
                                                    shared, std::move(slot));
      s->run();
      session = s;
    } else {
      auto s = std::make_shared<Session<PlainStream>>(PlainStream(std::move(socket)), shared,
                                                      std::move(slot));
      s->run();
      session = s;
    }
    return session;
  }

  std::shared_ptr<Shared> shared;
  Listener listener;
};

HttpServer::HttpServer(net::io_context& ioc, const tcp::endpoint& endpoint, Context& context,
                       HttpLimits limits, ssl::context* tls, ContextPicker sessions)
    : impl_(std::make_shared<Impl>(ioc, endpoint, std::make_shared<Shared>(context, limits, tls),
                                   std::move(sessions))) {}

HttpServer::~HttpServer() { stop(); }

tcp::endpoint HttpServer::local_endpoint() const { return impl_->listener.local_endpoint(); }

void HttpServer::start() { impl_->listener.start(); }

void HttpServer::stop() {
  impl_->shared->stopping = true;
  impl_->listener.stop();
}

}  // namespace tempmail::local::detail
