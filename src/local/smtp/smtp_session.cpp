// How a session runs: it never reads and writes at once. It reads a chunk,
// lets the protocol answer every complete line in it (pipelined commands in
// order, RFC 2920), writes all the replies in one go, and reads again. A
// complete message goes to the sink; when the sink is done at once (inside
// deliver()), the session answers and goes on without a round through the
// executor.
#include "local/smtp/smtp_session.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <thread>
#include <utility>

namespace tempmail::local::detail {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

SmtpProtocolOptions protocol_options(const SmtpSecurity& security) {
  SmtpProtocolOptions options = security.protocol;
  options.tls = security.implicit_tls;
  return options;
}

std::string peer_address(const asio::ip::tcp::socket& socket) {
  error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  return ec ? "unknown" : remote.address().to_string();
}

}  // namespace

SmtpSession::SmtpSession(asio::ip::tcp::socket socket, std::shared_ptr<SmtpShared> shared,
                         ConnectionLimiter::Slot slot)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      shared_(std::move(shared)),
      slot_(std::move(slot)),
      protocol_(shared_->limits, peer_address(socket_), *this,
                protocol_options(shared_->security)) {
  error_code ec;
  socket_.non_blocking(true, ec);  // write_now() must never block; reads stay asynchronous
}

SmtpSession::~SmtpSession() = default;

void SmtpSession::start() {
  // A newcomer over a connection cap may ask this session to close while it
  // waits for a command (ConnectionLimiter); it goes through the strand.
  slot_.on_evict([weak = weak_from_this(), executor = socket_.get_executor()] {
    asio::post(executor, [weak] {
      if (auto self = weak.lock()) self->on_evict();
    });
  });
  const bool stopping = shared_->stopping.load();
  asio::post(socket_.get_executor(), [self = shared_from_this(), stopping] {
    // Implicit TLS (RFC 8314): the handshake comes before the greeting.
    if (self->shared_->security.implicit_tls && !stopping) return self->start_tls();
    self->protocol_.greet(stopping);
    self->pump();
  });
}

void SmtpSession::request_stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->stop_requested_ = true;
    self->protocol_.request_stop();
    // Idle between commands: wake the pending read so the protocol says 421.
    if (self->protocol_.between_commands() && self->read_in_flight_) {
      error_code ignored;
      self->socket_.cancel(ignored);
    }
  });
}

bool SmtpSession::accepts_recipient(std::string_view address) {
  return shared_->sink.accepts_recipient(address);
}

// Lets the protocol process what is buffered, then writes its replies, then
// reads: one step at a time.
void SmtpSession::pump() {
  if (closed_ || read_in_flight_ || write_in_flight_) return;
  SmtpAction action = protocol_.advance();
  while (action == SmtpAction::kDeliver && !waiting_sink_ && hand_to_sink()) {
    action = protocol_.advance();
  }
  if (!protocol_.output().empty() && !write_now()) return;  // in flight, or closed
  if (action == SmtpAction::kClose) return close();
  // The 220 is written; whatever the client sent after STARTTLS was dropped
  // by the protocol (RFC 3207 5: no plaintext injection).
  if (action == SmtpAction::kStartTls) return start_tls();
  if (action == SmtpAction::kDeliver) return;  // on_delivered() pumps again
  start_read();
}

// Hands the protocol's message to the sink. True when the sink was done at
// once and the protocol has its answer; false while the sink works on it.
bool SmtpSession::hand_to_sink() {
  SmtpDelivery delivery = protocol_.take_delivery();
  waiting_sink_ = true;  // a slow sink is not an idle client: on_timer() waits

  // `done` may run on any thread, at once or later, and must count once.
  // Called from inside deliver() on this thread (the store committed at once),
  // it only records the outcome, which is answered below without a round
  // through the executor; from anywhere else it posts on_delivered().
  auto called = std::make_shared<std::atomic<bool>>(false);
  auto done = [self = shared_from_this(), executor = socket_.get_executor(), called,
               caller = std::this_thread::get_id()](std::error_code error) {
    if (called->exchange(true)) return;
    // in_deliver_ is read only on the thread that writes it.
    if (std::this_thread::get_id() == caller && self->in_deliver_) {
      self->delivered_now_ = error;
      return;
    }
    asio::post(executor, [self, error] { self->on_delivered(error); });
  };
  in_deliver_ = true;
  try {
    shared_->sink.deliver(std::move(delivery.raw), sink_envelope(std::move(delivery.envelope)),
                          done);
  } catch (const std::exception&) {
    done(std::make_error_code(std::errc::io_error));
  }
  in_deliver_ = false;
  if (!delivered_now_) return false;
  const std::error_code error = *delivered_now_;
  delivered_now_.reset();
  waiting_sink_ = false;
  protocol_.delivered(error);
  return true;
}

// The protocol's envelope with what only the socket knows.
Envelope SmtpSession::sink_envelope(SmtpEnvelope e) const {
  error_code ec;
  const auto remote = socket_.remote_endpoint(ec);
  return Envelope{
      .mail_from = std::move(e.mail_from),
      .rcpt_to = std::move(e.recipients),
      .helo = std::move(e.helo),
      .client = ec ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port()),
      .tls = tls_info_,
      .auth_user = std::move(e.auth_user),
      .injected = false};
}

void SmtpSession::on_delivered(std::error_code error) {
  if (closed_ || !waiting_sink_) return;
  waiting_sink_ = false;
  protocol_.delivered(error);
  pump();
}

// A newcomer needs this session's place: close with 421 if it waits for a
// command with nothing buffered or unread, else stay.
void SmtpSession::on_evict() {
  error_code ec;
  const bool unread = socket_.available(ec) > 0 && !ec;
  if (idle_ && !unread && !closed_) {
    evicted_ = true;
    socket_.cancel(ec);  // the pending read or handshake ends; its handler says 421
  } else {
    slot_.keep();
  }
}

void SmtpSession::start_tls() {
  if (tls_) return close();  // TLS twice: the protocol never asks for it
  tls_ =
      std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *shared_->security.tls);
  handshake_in_flight_ = true;
  idle_ = true;  // a handshake that never finishes may make room for a newcomer
  slot_.idle();
  arm_timer();  // a client that never finishes the handshake times out
  tls_->async_handshake(asio::ssl::stream_base::server,
                        [self = shared_from_this()](const error_code& ec) {
                          self->handshake_in_flight_ = false;
                          self->on_handshake(ec);
                        });
}

void SmtpSession::on_handshake(const error_code& error) {
  idle_ = false;
  slot_.busy();
  if (closed_) return;
  if (error) return close();  // not a TLS client, or one that does not trust us
  SSL* ssl = tls_->native_handle();
  tls_info_ = TlsInfo{.version = SSL_get_version(ssl), .cipher = SSL_get_cipher_name(ssl)};
  if (shared_->security.implicit_tls) {
    protocol_.greet(shared_->stopping.load());
  } else {
    protocol_.tls_started();
  }
  pump();
}

void SmtpSession::start_read() {
  read_in_flight_ = true;
  if (protocol_.take_line_progress()) arm_timer();
  // Between commands with nothing buffered: idle, so a newcomer at a cap may
  // take this place (on loopback every client shares one address).
  if (protocol_.between_commands() && protocol_.buffered() == 0) {
    idle_ = true;
    slot_.idle();
  }
  auto on_read = [self = shared_from_this()](const error_code& ec, std::size_t n) {
    self->read_in_flight_ = false;
    if (self->idle_) {
      self->idle_ = false;
      self->slot_.busy();
    }
    if (self->evicted_ && !self->closed_ && ec == asio::error::operation_aborted) {
      self->protocol_.output() += "421 4.4.2 " + self->shared_->limits.hostname +
                                  " Closing an idle connection to make room for another "
                                  "client\r\n";
      self->close_after_write_ = true;
      if (self->write_now()) self->close();
      return;
    }
    if (self->evicted_) {  // bytes came although an eviction was on its way: stay
      self->evicted_ = false;
      self->slot_.keep();
    }
    if (self->closed_) return;
    if (ec == asio::error::operation_aborted && (self->timed_out_ || self->stop_requested_)) {
      if (self->timed_out_) self->protocol_.time_out();
      return self->pump();  // a stop request: the protocol says 421
    }
    if (ec) return self->close();  // peer gone (EOF, reset)
    self->protocol_.receive(std::string_view(self->chunk_.data(), n));
    self->pump();
  };
  if (tls_)
    tls_->async_read_some(asio::buffer(chunk_), std::move(on_read));
  else
    socket_.async_read_some(asio::buffer(chunk_), std::move(on_read));
}

// Writes the replies now, as far as the socket takes them without blocking.
// True when all were written; otherwise the rest is in flight (or the session
// closed on an error). Rationale: replies are small and nearly always fit the
// socket's buffer; an asynchronous write costs a handler and a reactor round
// for each, four per message on one reused connection (bench/RESULTS.md).
bool SmtpSession::write_now() {
  arm_timer();
  // A TLS record cannot be written half now and half later by this path.
  if (tls_) {
    start_write();
    return false;
  }
  std::string& out = protocol_.output();
  error_code ec;
  const std::size_t n = socket_.write_some(asio::buffer(out), ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
    close();  // peer gone
    return false;
  }
  if (n == out.size()) {
    out.clear();
    return true;
  }
  out.erase(0, n);
  start_write();
  return false;
}

void SmtpSession::start_write() {
  write_in_flight_ = true;
  writing_.swap(protocol_.output());
  protocol_.output().clear();
  arm_timer();
  auto on_written = [self = shared_from_this()](const error_code& ec, std::size_t) {
    self->write_in_flight_ = false;
    self->writing_.clear();
    if (self->closed_) return;
    if (ec || self->close_after_write_) return self->close();
    self->pump();
  };
  if (tls_)
    asio::async_write(*tls_, asio::buffer(writing_), std::move(on_written));
  else
    asio::async_write(socket_, asio::buffer(writing_), std::move(on_written));
}

// Every read and write pushes the idle deadline back, but the timer itself is
// armed only when no wait is pending, and re-armed from on_timer() when the
// deadline moved. Rationale: re-arming an Asio timer per I/O cancels the
// pending wait (one more handler to run) and reprograms the reactor's timerfd
// (a syscall): two of each per SMTP command, which on one reused connection
// cost more than the command itself (bench/RESULTS.md, SMTP ingest).
void SmtpSession::arm_timer() {
  idle_deadline_ = std::chrono::steady_clock::now() + shared_->limits.idle_timeout;
  if (!timer_armed_) start_timer();
}

void SmtpSession::start_timer() {
  timer_armed_ = true;
  timer_.expires_at(idle_deadline_);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    self->timer_armed_ = false;
    if (!ec) self->on_timer();
  });
}

void SmtpSession::on_timer() {
  // While the sink stores a message the client is not idle; the reply re-arms.
  if (closed_ || waiting_sink_) return;
  if (idle_deadline_ > std::chrono::steady_clock::now()) return start_timer();
  if (handshake_in_flight_) return close();
  if (read_in_flight_) {
    timed_out_ = true;
    error_code ignored;
    socket_.cancel(ignored);  // the read handler answers 421 and closes
  } else if (write_in_flight_) {
    close();  // the client stopped reading our replies: give up
  }
}

void SmtpSession::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace tempmail::local::detail
