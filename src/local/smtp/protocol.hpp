// The SMTP server protocol (RFC 5321 with PIPELINING, SIZE, 8BITMIME,
// SMTPUTF8, ENHANCEDSTATUSCODES, AUTH PLAIN/LOGIN, STARTTLS) as a socket-free state
// machine: bytes in, replies, deliveries and actions out. SmtpSession is its adapter to a socket;
// tests and the fuzzer drive it directly.
//
//   SmtpProtocol protocol(limits, "127.0.0.1", recipients);
//   protocol.greet();
//   protocol.receive(bytes);
//   while (protocol.advance() == SmtpAction::kDeliver) {
//     SmtpDelivery delivery = protocol.take_delivery();  // store it, then:
//     protocol.delivered({});                            // "250 2.0.0 Ok: queued"
//   }
//   write(protocol.output()); protocol.output().clear();
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "local/smtp/command.hpp"
#include "local/smtp/limits.hpp"

namespace tempmail::local::detail {

/// What the protocol asks of the server for each RCPT TO.
class RecipientCheck {
 public:
  virtual ~RecipientCheck() = default;
  /// True when `address` (lower-cased) accepts mail. May throw: the client
  /// then gets 451 (try again later).
  virtual bool accepts_recipient(std::string_view address) = 0;
};

/// Decides on the user name and password of an AUTH exchange. Without one,
/// the protocol accepts any (the default: an application configured with
/// credentials for its real relay sends here unchanged).
/// A refusal is 535 5.7.8 and the client may try again (SmtpCredentials
/// holds configured users).
class SmtpAuthenticator {
 public:
  virtual ~SmtpAuthenticator() = default;
  virtual bool accepts(std::string_view user, std::string_view password) = 0;
  /// The password of `user` for CRAM-MD5 (RFC 2195), nullopt if unknown.
  virtual std::optional<std::string> password_of(std::string_view /*user*/) { return std::nullopt; }
  /// True when password_of() can answer: EHLO then offers CRAM-MD5 too.
  [[nodiscard]] virtual bool knows_passwords() const { return false; }
};

/// The facts of the session a message came in (RFC 5321 3.3).
struct SmtpEnvelope {
  std::string helo;                     // the client's name from HELO/EHLO
  bool esmtp = false;                   // EHLO rather than HELO
  std::string mail_from;                // empty for the null reverse-path "<>"
  std::vector<std::string> recipients;  // accepted, lower-cased, no duplicates
  bool smtputf8 = false;
  /// The user name of a successful AUTH (never the password), else nullopt.
  std::optional<std::string> auth_user;
  bool tls = false;  // the message came over TLS (STARTTLS or implicit)
};

/// What a session offers and requires beyond RFC 5321; every default keeps
/// a plain session as it always was.
struct SmtpProtocolOptions {
  /// The Received header's RFC 5322 date-time (nullptr: the clock; tests fix it).
  std::string (*date)() = nullptr;
  /// Decides on AUTH credentials (nullptr: any user name and password).
  SmtpAuthenticator* authenticator = nullptr;
  /// The unique part of a CRAM-MD5 challenge "<unique@hostname>" (nullptr:
  /// random; tests and the fuzzer fix it).
  std::string (*challenge)() = nullptr;
  /// EHLO offers STARTTLS (RFC 3207); the adapter must then be able to upgrade.
  bool offer_starttls = false;
  /// The connection is TLS from the start (implicit TLS, RFC 8314).
  bool tls = false;
  /// MAIL FROM without TLS: 530 5.7.0 Must issue a STARTTLS command first.
  bool require_tls = false;
  /// MAIL FROM before a successful AUTH: 530 5.7.0 Authentication required.
  bool require_auth = false;
};

/// A complete message, accepted by the protocol and not yet answered.
struct SmtpDelivery {
  SmtpEnvelope envelope;
  /// A Received header, then the text as sent, dot-unstuffed, CRLF line ends.
  std::shared_ptr<std::string> raw;
};

/// What the adapter must do next, after advance().
enum class SmtpAction {
  kRead,      // write output(), then read more bytes and receive() them
  kDeliver,   // write output(), take_delivery(), and call delivered() once it is stored
  kClose,     // write output(), then close the connection
  kStartTls,  // write output() (the 220), do the TLS handshake, then call tls_started()
};

/// One SMTP session's protocol state. Not thread-safe: one owner drives it.
class SmtpProtocol {
 public:
  SmtpProtocol(const SmtpLimits& limits, std::string peer, RecipientCheck& recipients,
               SmtpProtocolOptions options = {});

  /// The 220 greeting, or 421 when the server is shutting down (then kClose).
  void greet(bool shutting_down = false);

  /// Appends bytes from the client; advance() processes them.
  void receive(std::string_view bytes);

  /// Processes buffered input: every complete line, in order (pipelining),
  /// until more input is needed, a delivery waits, or the session ends.
  /// Buffered input stays bounded by the line limits.
  SmtpAction advance();

  /// Replies not yet written; the adapter writes and clears it.
  std::string& output() { return out_; }

  /// The message advance() returned kDeliver for (once).
  SmtpDelivery take_delivery();
  /// Answers the delivery: 250 without an error, 451 with one; the session
  /// then goes on with the next command (call advance()).
  void delivered(std::error_code error);

  /// The server is stopping: between commands the session says 421 and
  /// closes; a message in DATA or being delivered is finished first.
  void request_stop() { stop_requested_ = true; }
  /// No complete line for too long: 421 and kClose.
  void time_out();
  /// The TLS handshake after kStartTls succeeded: the session starts over
  /// as after the greeting (RFC 3207 4.2: EHLO again; what the client said
  /// before, its EHLO name and any AUTH, is forgotten), now over TLS.
  void tls_started();
  /// True once the connection is TLS.
  [[nodiscard]] bool tls() const { return tls_; }

  /// True between commands (not in DATA, not waiting for a delivery; an
  /// AUTH exchange counts as between commands).
  [[nodiscard]] bool between_commands() const {
    return mode_ == Mode::kCommand || mode_ == Mode::kSkipLongLine || mode_ == Mode::kAuth;
  }
  /// The user name of a successful AUTH in this session.
  [[nodiscard]] const std::optional<std::string>& auth_user() const { return auth_user_; }
  /// True while a delivery is out (kDeliver until delivered()).
  [[nodiscard]] bool delivering() const { return mode_ == Mode::kDelivering; }
  /// Bytes received and not yet processed. After advance() returns kRead,
  /// at most one partial line: no more than the longer line limit + 1 (its CR).
  [[nodiscard]] std::size_t buffered() const { return in_.size() - in_pos_; }
  /// True once since the last call when a whole line arrived: bytes alone are
  /// not progress, so a client dripping one line for ever still times out.
  [[nodiscard]] bool take_line_progress() {
    const bool progress = line_progress_;
    line_progress_ = false;
    return progress;
  }

 private:
  enum class Mode { kCommand, kSkipLongLine, kAuth, kData, kDelivering, kStartingTls, kClosed };
  // Where an AUTH exchange is (RFC 4954 4): what the next client line answers.
  enum class AuthStep { kPlain, kLoginUser, kLoginPassword, kCramMd5 };

  bool process_command_input();
  bool process_data_input();
  void handle(const SmtpCommand& command);
  void handle_ehlo(const SmtpCommand& command);
  void handle_mail(const SmtpCommand& command);
  void handle_rcpt(const SmtpCommand& command);
  void handle_data();
  void handle_auth(const SmtpCommand& command);
  void handle_starttls();
  void check_cram_md5(std::string_view response);
  [[nodiscard]] bool offers_cram_md5() const {
    return options_.authenticator != nullptr && options_.authenticator->knows_passwords();
  }
  void handle_auth_response(std::string_view line);
  void finish_auth(std::string_view user, std::string_view password);
  void challenge(AuthStep step, std::string_view text);
  void finish_data();

  void reply(int code, std::string_view enhanced, std::string_view text);
  void error_reply(int code, std::string_view enhanced, std::string_view text);
  void close_after_reply(int code, std::string_view enhanced, std::string_view text);
  void reset_transaction();
  void append_received_header(std::string& raw) const;

  const SmtpLimits& limits_;
  const std::string peer_;  // "127.0.0.1", for the Received header
  RecipientCheck& recipients_check_;
  const SmtpProtocolOptions options_;
  std::string (*const date_)();

  Mode mode_ = Mode::kCommand;
  std::string in_;  // received, not yet processed from in_pos_ on
  std::size_t in_pos_ = 0;
  std::string out_;
  bool line_progress_ = true;
  bool stop_requested_ = false;
  bool tls_ = false;
  std::size_t errors_ = 0;

  std::optional<std::string> helo_;
  bool esmtp_ = false;
  std::optional<std::string> auth_user_;  // after a successful AUTH
  AuthStep auth_step_ = AuthStep::kPlain;
  std::string auth_login_user_;  // LOGIN: the user name, until the password comes
  std::string cram_challenge_;   // CRAM-MD5: the challenge sent, until the response

  // The mail transaction (RFC 5321 3.3): MAIL, RCPT..., DATA.
  std::optional<std::string> reverse_path_;
  bool smtputf8_ = false;
  std::vector<std::string> recipients_;
  bool recipient_rejected_ = false;
  std::string message_;
  bool message_too_big_ = false;
  bool data_line_crlf_ = true;  // the last DATA line ended in CRLF, not a bare LF
  std::optional<SmtpDelivery> delivery_;
};

}  // namespace tempmail::local::detail
