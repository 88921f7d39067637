// One SMTP connection: SmtpProtocol (the RFC 5321 state machine, socket-free)
// over a socket on its own strand. Internal to the SMTP listener
// (smtp_server.cpp creates sessions).
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "local/connection_limiter.hpp"
#include "local/listener.hpp"
#include "local/mail_sink.hpp"
#include "local/smtp/protocol.hpp"
#include "local/smtp/smtp_server.hpp"

namespace tempmail::local::detail {

class SmtpSession;

/// What the listener and its sessions share; sessions keep it alive.
struct SmtpShared {
  SmtpShared(MailSink& sink_ref, SmtpLimits limits_value, SmtpSecurity security_value = {})
      : sink(sink_ref), limits(std::move(limits_value)), security(std::move(security_value)) {}

  MailSink& sink;
  const SmtpLimits limits;
  const SmtpSecurity security;
  /// Set by stop(), before the listener tells the sessions.
  std::atomic<bool> stopping{false};
};

/// The adapter between a socket and SmtpProtocol: reads, writes, the idle
/// deadline, and the hand-off of each message to the MailSink, whose
/// completion releases the 250.
class SmtpSession : public std::enable_shared_from_this<SmtpSession>,
                    public ListenedSession,
                    private RecipientCheck {
 public:
  /// `socket` must use a strand executor: every handler of the session runs on it.
  SmtpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<SmtpShared> shared,
              ConnectionLimiter::Slot slot);
  ~SmtpSession() override;
  SmtpSession(const SmtpSession&) = delete;
  SmtpSession& operator=(const SmtpSession&) = delete;

  /// Sends the greeting (421 when the server is stopping).
  void start();
  /// From any thread: close when idle; a message in DATA or with the sink is
  /// finished (and answered) first, then the session says 421 and closes.
  void request_stop() override;

 private:
  bool accepts_recipient(std::string_view address) override;

  void pump();
  bool hand_to_sink();
  // What the sink keeps of this session with the message it is handed.
  [[nodiscard]] Envelope sink_envelope(SmtpEnvelope envelope) const;
  void on_delivered(std::error_code error);

  void on_evict();
  void start_tls();
  void on_handshake(const boost::system::error_code& error);
  void start_read();
  bool write_now();
  void start_write();
  void arm_timer();
  void start_timer();
  void on_timer();
  void close();

  boost::asio::ip::tcp::socket socket_;
  // Over socket_ once TLS began (STARTTLS or implicit); then all I/O goes
  // through it.
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  std::optional<TlsInfo> tls_info_;  // the handshake's version and cipher
  bool handshake_in_flight_ = false;
  bool idle_ = false;     // the slot is marked idle (ConnectionLimiter): may make room
  bool evicted_ = false;  // asked to close for a newcomer while idle
  bool close_after_write_ = false;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point idle_deadline_{};
  bool timer_armed_ = false;  // a wait on timer_ is pending
  std::shared_ptr<SmtpShared> shared_;
  ConnectionLimiter::Slot slot_;  // this connection's place, freed with the session
  SmtpProtocol protocol_;

  std::array<char, 64 * 1024> chunk_{};
  std::string writing_;  // the buffer of the write in flight
  bool read_in_flight_ = false;
  bool write_in_flight_ = false;
  bool waiting_sink_ = false;                       // a delivery is with the sink
  bool in_deliver_ = false;                         // inside sink.deliver() (hand_to_sink)
  std::optional<std::error_code> delivered_now_{};  // its outcome, when it came at once
  bool closed_ = false;
  bool timed_out_ = false;
  bool stop_requested_ = false;
};

}  // namespace tempmail::local::detail
