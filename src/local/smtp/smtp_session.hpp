// One SMTP connection: the RFC 5321 state machine over a socket on its own
// strand. Internal to the SMTP listener (smtp_server.cpp creates sessions).
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
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
#include <vector>

#include "local/connection_limiter.hpp"
#include "local/smtp/command.hpp"
#include "local/smtp/mail_sink.hpp"
#include "local/smtp/smtp_server.hpp"

namespace tempmail::local::detail {

class SmtpSession;

/// What the listener and its sessions share; sessions keep it alive.
struct SmtpShared {
  SmtpShared(MailSink& sink_ref, SmtpLimits limits_value)
      : sink(sink_ref),
        limits(std::move(limits_value)),
        connections(std::make_shared<ConnectionLimiter>(limits.max_connections,
                                                        limits.max_connections_per_address)) {}

  MailSink& sink;
  const SmtpLimits limits;
  const std::shared_ptr<ConnectionLimiter> connections;

  std::mutex mutex;  // guards what follows
  bool stopping = false;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<SmtpSession>> sessions;
};

class SmtpSession : public std::enable_shared_from_this<SmtpSession> {
 public:
  /// `socket` must use a strand executor: every handler of the session runs on it.
  SmtpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<SmtpShared> shared,
              ConnectionLimiter::Slot slot);
  ~SmtpSession();
  SmtpSession(const SmtpSession&) = delete;
  SmtpSession& operator=(const SmtpSession&) = delete;

  /// Registers with the listener and sends the greeting.
  void start();
  /// From any thread: close when idle; a message in DATA or with the sink is
  /// finished (and answered) first, then the session says 421 and closes.
  void request_stop();

 private:
  enum class Mode { kCommand, kSkipLongLine, kData, kWaitingSink, kClosed };

  void pump();
  bool process_one();
  bool process_command_input();
  bool process_data_input();
  void handle(const SmtpCommand& command);
  void handle_mail(const SmtpCommand& command);
  void handle_rcpt(const SmtpCommand& command);
  void handle_data();
  void finish_data();
  void on_delivered(std::error_code error);
  void answer_delivery(std::error_code error);

  void reply(int code, std::string_view enhanced, std::string_view text);
  void error_reply(int code, std::string_view enhanced, std::string_view text);
  void close_after_reply(int code, std::string_view enhanced, std::string_view text);
  void reset_transaction();
  [[nodiscard]] std::string received_header() const;

  void start_read();
  bool write_now();
  void start_write();
  void arm_timer();
  void start_timer();
  void on_timer();
  void close();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point idle_deadline_{};
  bool timer_armed_ = false;  // a wait on timer_ is pending
  // A whole line arrived since the idle deadline was last pushed back: bytes
  // alone are not progress, so a client dripping a line forever still times out.
  bool line_since_arm_ = true;
  std::shared_ptr<SmtpShared> shared_;
  const SmtpLimits& limits_;
  ConnectionLimiter::Slot slot_;  // this connection's place, freed with the session
  std::uint64_t id_ = 0;
  std::string peer_;  // "127.0.0.1", for the Received header

  Mode mode_ = Mode::kCommand;
  std::array<char, 64 * 1024> chunk_{};
  std::string in_;  // received, not yet processed from in_pos_ on
  std::size_t in_pos_ = 0;
  std::string out_;      // replies not yet written
  std::string writing_;  // the buffer of the write in flight
  bool read_in_flight_ = false;
  bool write_in_flight_ = false;
  bool in_deliver_ = false;                         // inside sink.deliver() (finish_data)
  std::optional<std::error_code> delivered_now_{};  // its outcome, when it came at once
  bool close_after_write_ = false;
  bool timed_out_ = false;
  bool stop_requested_ = false;
  std::size_t errors_ = 0;

  std::optional<std::string> helo_;  // the client's name from HELO/EHLO
  bool esmtp_ = false;               // EHLO rather than HELO

  // The mail transaction (RFC 5321 3.3): MAIL, RCPT..., DATA.
  std::optional<std::string> reverse_path_;
  bool smtputf8_ = false;
  std::vector<std::string> recipients_;  // accepted, lower-cased, no duplicates
  bool recipient_rejected_ = false;
  std::string message_;
  bool message_too_big_ = false;
  bool data_line_crlf_ = true;  // the last DATA line ended in CRLF, not a bare LF
};

}  // namespace tempmail::local::detail
