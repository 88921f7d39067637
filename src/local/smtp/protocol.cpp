// How the protocol runs: advance() takes one complete line at a time from the
// buffer (a line ends at LF, with or without CR before it) and answers it into
// out_, so pipelined commands (RFC 2920) are answered in order and written in
// one go by the adapter. A command line longer than max_command_line, or a
// DATA line longer than max_text_line, is refused without being kept.
#include "local/smtp/protocol.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>

#include "common/ascii.hpp"
#include "common/random.hpp"
#include "local/smtp/sasl.hpp"

namespace tempmail::local::detail {
namespace {

using tempmail::detail::to_ascii_lower;

// RFC 5322 3.3 date-time in UTC: "Tue, 02 Jun 2026 09:39:08 +0000".
std::string rfc5322_now() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return text;
}

constexpr std::string_view kShuttingDown = "Service shutting down, try again later";
// The LOGIN mechanism's challenges, base64 of "Username:" and "Password:".
constexpr std::string_view kLoginUser = "VXNlcm5hbWU6";
constexpr std::string_view kLoginPassword = "UGFzc3dvcmQ6";

}  // namespace

SmtpProtocol::SmtpProtocol(const SmtpLimits& limits, std::string peer, RecipientCheck& recipients,
                           SmtpProtocolOptions options)
    : limits_(limits),
      peer_(std::move(peer)),
      recipients_check_(recipients),
      options_(options),
      date_(options.date != nullptr ? options.date : rfc5322_now),
      tls_(options.tls) {}

void SmtpProtocol::greet(bool shutting_down) {
  if (shutting_down) return close_after_reply(421, "4.3.2", kShuttingDown);
  reply(220, "", limits_.hostname + " ESMTP tempmail ready");
}

void SmtpProtocol::receive(std::string_view bytes) {
  // Between STARTTLS and tls_started() every byte is the adapter's (TLS).
  if (mode_ != Mode::kClosed && mode_ != Mode::kStartingTls) in_.append(bytes);
}

SmtpAction SmtpProtocol::advance() {
  bool more = true;
  while (more && mode_ != Mode::kClosed && mode_ != Mode::kDelivering &&
         mode_ != Mode::kStartingTls) {
    if (mode_ == Mode::kData) {
      more = process_data_input();
    } else if (stop_requested_) {
      close_after_reply(421, "4.3.2", kShuttingDown);
    } else {
      more = process_command_input();
    }
  }
  if (in_pos_ > 0) {  // drop what was processed, once per call
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  if (mode_ == Mode::kClosed) return SmtpAction::kClose;
  if (mode_ == Mode::kDelivering) return SmtpAction::kDeliver;
  if (mode_ == Mode::kStartingTls) return SmtpAction::kStartTls;
  return SmtpAction::kRead;
}

void SmtpProtocol::time_out() {
  if (mode_ != Mode::kClosed) close_after_reply(421, "4.4.2", "Idle timeout, closing connection");
}

bool SmtpProtocol::process_command_input() {
  const auto newline = in_.find('\n', in_pos_);
  if (mode_ == Mode::kSkipLongLine) {
    // The rest of an overlong line (already answered): drop it.
    if (newline == std::string::npos) {
      in_pos_ = in_.size();
      return false;
    }
    in_pos_ = newline + 1;
    line_progress_ = true;
    mode_ = Mode::kCommand;
    return true;
  }
  // A line's length is counted without its line end, so a partial line may
  // hold one byte more (a CR whose LF is yet to come): the answer must not
  // depend on where a read happened to end.
  if (newline == std::string::npos) {
    if (in_.size() - in_pos_ <= limits_.max_command_line + 1) return false;  // wait for more
    in_pos_ = in_.size();
    mode_ = Mode::kSkipLongLine;
    error_reply(500, "5.5.6", "Line too long");
    return true;
  }
  std::string_view line(in_.data() + in_pos_, newline - in_pos_);
  in_pos_ = newline + 1;
  line_progress_ = true;
  // A bare CR stays in the line (and makes it a syntax error): it never splits
  // one line into two commands.
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > limits_.max_command_line) {
    if (mode_ == Mode::kAuth) mode_ = Mode::kCommand;  // the exchange ends with the error
    error_reply(500, "5.5.6", "Line too long");
    return true;
  }
  if (mode_ == Mode::kAuth) {
    handle_auth_response(line);
  } else {
    handle(parse_command(line));
  }
  return true;
}

bool SmtpProtocol::process_data_input() {
  const auto newline = in_.find('\n', in_pos_);
  if (newline == std::string::npos) {
    if (in_.size() - in_pos_ > limits_.max_text_line + 1) {  // + 1: see above
      close_after_reply(500, "5.5.6", "Line too long in message data, closing connection");
    }
    return false;
  }
  std::string_view line(in_.data() + in_pos_, newline - in_pos_);
  in_pos_ = newline + 1;
  line_progress_ = true;
  const bool crlf = !line.empty() && line.back() == '\r';
  if (crlf) line.remove_suffix(1);
  if (line.size() > limits_.max_text_line) {  // as sent: a stuffed dot counts
    close_after_reply(500, "5.5.6", "Line too long in message data, closing connection");
    return false;
  }
  // Only <CRLF>.<CRLF> ends the data (RFC 5321 4.1.1.4): a "." line with a
  // bare LF on either side is data, or one message could carry a second one
  // (SMTP smuggling). Bare LF line ends are kept as line ends (stored as CRLF).
  const bool after_crlf = data_line_crlf_;
  data_line_crlf_ = crlf;
  if (line == ".") {
    if (crlf && after_crlf) {
      finish_data();
      return true;  // advance() stops while the delivery is out, or goes on after a 552
    }
  } else if (!line.empty() && line.front() == '.') {
    line.remove_prefix(1);  // RFC 5321 4.5.2
  }
  if (message_too_big_) return true;  // keep reading to the end, then 552
  if (message_.size() + line.size() + 2 > limits_.max_message_bytes) {
    message_too_big_ = true;
    std::string().swap(message_);
    return true;
  }
  message_.append(line);
  message_.append("\r\n");  // bare LF line ends are stored as CRLF
  return true;
}

void SmtpProtocol::handle(const SmtpCommand& command) {
  if (command.verb == SmtpVerb::kUnknown) {
    return error_reply(500, "5.5.1", "Command unrecognized");
  }
  if (command.verb == SmtpVerb::kNotImplemented) {
    return error_reply(502, "5.5.1", command.verb_text + " is not implemented");
  }
  if (command.error) {
    return error_reply(command.error->code, command.error->enhanced, command.error->text);
  }
  switch (command.verb) {
    case SmtpVerb::kHelo:
      reset_transaction();
      helo_ = command.argument;
      esmtp_ = false;
      return reply(250, "", limits_.hostname);
    case SmtpVerb::kEhlo:
      return handle_ehlo(command);
    case SmtpVerb::kMail:
      return handle_mail(command);
    case SmtpVerb::kRcpt:
      return handle_rcpt(command);
    case SmtpVerb::kData:
      return handle_data();
    case SmtpVerb::kRset:
      reset_transaction();
      return reply(250, "2.0.0", "Ok");
    case SmtpVerb::kNoop:
      return reply(250, "2.0.0", "Ok");
    case SmtpVerb::kQuit:
      return close_after_reply(221, "2.0.0", "Bye");
    case SmtpVerb::kVrfy:
      return reply(252, "2.5.0", "Cannot VRFY user, but will accept mail for live mailboxes");
    case SmtpVerb::kHelp:
      return reply(214, "2.0.0",
                   "Commands: EHLO HELO AUTH MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
    case SmtpVerb::kAuth:
      return handle_auth(command);
    case SmtpVerb::kStartTls:
      return handle_starttls();
    case SmtpVerb::kNotImplemented:
    case SmtpVerb::kUnknown:
      break;
  }
}

void SmtpProtocol::handle_ehlo(const SmtpCommand& command) {
  reset_transaction();
  helo_ = command.argument;
  esmtp_ = true;
  out_ += "250-" + limits_.hostname + " greets " + command.argument + "\r\n";
  out_ += "250-PIPELINING\r\n";
  out_ += "250-8BITMIME\r\n";
  out_ += "250-SMTPUTF8\r\n";
  out_ += "250-SIZE " + std::to_string(limits_.max_message_bytes) + "\r\n";
  if (options_.offer_starttls && !tls_) out_ += "250-STARTTLS\r\n";
  out_ += offers_cram_md5() ? "250-AUTH CRAM-MD5 PLAIN LOGIN\r\n" : "250-AUTH PLAIN LOGIN\r\n";
  out_ += "250 ENHANCEDSTATUSCODES\r\n";
}

void SmtpProtocol::handle_mail(const SmtpCommand& command) {
  if (!helo_) return error_reply(503, "5.5.1", "Send EHLO or HELO first");
  if (reverse_path_) return error_reply(503, "5.5.1", "Sender already given; RSET to start over");
  if (options_.require_tls && !tls_) {
    return error_reply(530, "5.7.0", "Must issue a STARTTLS command first");
  }
  if (options_.require_auth && !auth_user_) {
    return error_reply(530, "5.7.0", "Authentication required");
  }
  if (command.size && *command.size > limits_.max_message_bytes) {
    return reply(552, "5.3.4",
                 "Message size exceeds fixed maximum message size of " +
                     std::to_string(limits_.max_message_bytes) + " bytes");
  }
  reverse_path_ = command.address;
  smtputf8_ = command.smtputf8;
  reply(250, "2.1.0", "Ok");
}

void SmtpProtocol::handle_rcpt(const SmtpCommand& command) {
  if (!reverse_path_) return error_reply(503, "5.5.1", "Need MAIL FROM before RCPT TO");
  std::string address = to_ascii_lower(command.address);
  if (std::find(recipients_.begin(), recipients_.end(), address) != recipients_.end()) {
    return reply(250, "2.1.5", "Ok");  // the same mailbox twice gets the message once
  }
  if (recipients_.size() >= limits_.max_recipients) {
    return reply(452, "4.5.3", "Too many recipients");
  }
  bool accepted = false;
  try {
    accepted = recipients_check_.accepts_recipient(address);
  } catch (const std::exception&) {
    return reply(451, "4.3.0", "Cannot check the recipient now, try again later");
  }
  if (!accepted) {
    recipient_rejected_ = true;
    return reply(550, "5.1.1", "<" + command.address + ">: no such mailbox here");
  }
  recipients_.push_back(std::move(address));
  reply(250, "2.1.5", "Ok");
}

void SmtpProtocol::handle_data() {
  if (!reverse_path_) return error_reply(503, "5.5.1", "Need MAIL FROM before DATA");
  if (recipients_.empty()) {
    // RFC 2920 3.1: after pipelined RCPTs that all failed, DATA gets 554.
    if (recipient_rejected_) return reply(554, "5.5.1", "No valid recipients");
    return error_reply(503, "5.5.1", "Need RCPT TO before DATA");
  }
  message_.clear();
  message_too_big_ = false;
  data_line_crlf_ = true;  // the DATA line itself ended the previous line
  mode_ = Mode::kData;
  reply(354, "", "End data with <CR><LF>.<CR><LF>");
}

void SmtpProtocol::finish_data() {
  if (message_too_big_) {
    mode_ = Mode::kCommand;
    reset_transaction();
    return reply(552, "5.3.4",
                 "Message size exceeds fixed maximum message size of " +
                     std::to_string(limits_.max_message_bytes) + " bytes");
  }
  auto raw = std::make_shared<std::string>();
  raw->reserve(message_.size() + 256);
  append_received_header(*raw);
  raw->append(message_);
  message_.clear();  // keeps its capacity for the next message (see reset_transaction)
  delivery_.emplace(SmtpDelivery{SmtpEnvelope{helo_.value_or(""), esmtp_, std::move(*reverse_path_),
                                              std::move(recipients_), smtputf8_, auth_user_, tls_},
                                 std::move(raw)});
  mode_ = Mode::kDelivering;
}

SmtpDelivery SmtpProtocol::take_delivery() {
  SmtpDelivery delivery = std::move(*delivery_);
  delivery_.reset();
  return delivery;
}

void SmtpProtocol::delivered(std::error_code error) {
  if (mode_ != Mode::kDelivering) return;
  delivery_.reset();
  mode_ = Mode::kCommand;
  reset_transaction();
  if (error) {
    reply(451, "4.3.0", "Could not store the message, try again later");
  } else {
    reply(250, "2.0.0", "Ok: queued");
  }
}

void SmtpProtocol::reply(int code, std::string_view enhanced, std::string_view text) {
  char digits[4] = {static_cast<char>('0' + code / 100 % 10),
                    static_cast<char>('0' + code / 10 % 10), static_cast<char>('0' + code % 10),
                    ' '};
  out_.append(digits, sizeof digits);
  if (!enhanced.empty()) {
    out_ += enhanced;
    out_ += ' ';
  }
  out_ += text;
  out_ += "\r\n";
}

// AUTH (RFC 4954 4): PLAIN (RFC 4616) and LOGIN, with or without an initial
// response; a "334" challenge asks for each missing piece.
void SmtpProtocol::handle_auth(const SmtpCommand& command) {
  if (!helo_) return error_reply(503, "5.5.1", "Send EHLO first");
  if (auth_user_) return error_reply(503, "5.5.1", "Already authenticated");
  if (reverse_path_) {
    return error_reply(503, "5.5.1", "AUTH is not permitted during a mail transaction");
  }
  if (command.argument == "PLAIN") {
    auth_step_ = AuthStep::kPlain;
  } else if (command.argument == "LOGIN") {
    auth_step_ = AuthStep::kLoginUser;
  } else if (command.argument == "CRAM-MD5" && offers_cram_md5()) {
    if (command.initial_response) {
      return error_reply(501, "5.5.2", "CRAM-MD5 takes no initial response");
    }
    const std::string unique =
        options_.challenge != nullptr ? options_.challenge() : tempmail::detail::random_alnum(24);
    cram_challenge_ = "<" + unique + "@" + limits_.hostname + ">";
    return challenge(AuthStep::kCramMd5, encode_base64(cram_challenge_));
  } else {
    return error_reply(
        504, "5.5.4",
        offers_cram_md5()
            ? "Unrecognized authentication type (CRAM-MD5, PLAIN and LOGIN are offered)"
            : "Unrecognized authentication type (PLAIN and LOGIN are offered)");
  }
  mode_ = Mode::kAuth;
  if (command.initial_response) return handle_auth_response(*command.initial_response);
  challenge(auth_step_, auth_step_ == AuthStep::kPlain ? "" : kLoginUser);
}

void SmtpProtocol::challenge(AuthStep step, std::string_view text) {
  auth_step_ = step;
  mode_ = Mode::kAuth;
  reply(334, "", text);
}

// One client response in the exchange: "*" cancels, "=" is an empty one
// (RFC 4954 4), anything else must be base64.
void SmtpProtocol::handle_auth_response(std::string_view line) {
  mode_ = Mode::kCommand;  // until a further challenge says otherwise
  const std::string user = std::exchange(auth_login_user_, std::string());
  if (line == "*") return error_reply(501, "5.7.0", "Authentication cancelled");
  const std::optional<std::string> decoded =
      line == "=" ? std::optional<std::string>(std::string()) : decode_base64(line);
  if (!decoded) return error_reply(501, "5.5.2", "Cannot decode the response as base64");
  switch (auth_step_) {
    case AuthStep::kPlain: {
      const auto credentials = parse_plain(*decoded);
      if (!credentials) {
        return error_reply(501, "5.5.2",
                           "A PLAIN response is authzid NUL user NUL password, in base64");
      }
      return finish_auth(credentials->authcid, credentials->password);
    }
    case AuthStep::kLoginUser:
      if (decoded->empty()) return error_reply(501, "5.5.2", "Empty user name");
      auth_login_user_ = *decoded;
      return challenge(AuthStep::kLoginPassword, kLoginPassword);
    case AuthStep::kLoginPassword:
      return finish_auth(user, *decoded);
    case AuthStep::kCramMd5:
      return check_cram_md5(*decoded);
  }
}

// RFC 2195: the response is the user name, a space, and the HMAC-MD5 of the
// challenge keyed with the password, in hex; the password never travels.
void SmtpProtocol::check_cram_md5(std::string_view response) {
  const std::string challenge = std::exchange(cram_challenge_, std::string());
  const auto space = response.rfind(' ');
  if (space == std::string_view::npos || space == 0) {
    return error_reply(501, "5.5.2", "A CRAM-MD5 response is user SP digest, in base64");
  }
  const std::string_view user = response.substr(0, space);
  std::string digest(response.substr(space + 1));
  for (char& c : digest) c = c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c;
  const std::optional<std::string> password = options_.authenticator->password_of(user);
  const std::string expected = cram_md5_digest(password.value_or(""), challenge);
  if (!equal_in_constant_time(digest, expected) || !password) {
    return error_reply(535, "5.7.8", "Authentication credentials invalid");
  }
  auth_user_ = std::string(user);
  reply(235, "2.7.0", "Authentication successful");
}

void SmtpProtocol::finish_auth(std::string_view user, std::string_view password) {
  if (options_.authenticator != nullptr && !options_.authenticator->accepts(user, password)) {
    return error_reply(535, "5.7.8", "Authentication credentials invalid");
  }
  auth_user_ = std::string(user);
  reply(235, "2.7.0", "Authentication successful");
}

// STARTTLS (RFC 3207): the 220, then nothing more from this buffer. Whatever
// the client sent after the STARTTLS line came in clear and could have been
// injected by anyone on the path, so it is dropped, never answered.
void SmtpProtocol::handle_starttls() {
  if (!options_.offer_starttls) return error_reply(502, "5.5.1", "STARTTLS is not implemented");
  if (tls_) return error_reply(503, "5.5.1", "TLS is already active");
  if (!helo_) return error_reply(503, "5.5.1", "Send EHLO first");
  if (reverse_path_) {
    return error_reply(503, "5.5.1", "STARTTLS is not permitted during a mail transaction");
  }
  reply(220, "2.0.0", "Ready to start TLS");
  in_pos_ = in_.size();
  mode_ = Mode::kStartingTls;
}

void SmtpProtocol::tls_started() {
  if (mode_ != Mode::kStartingTls) return;
  tls_ = true;
  helo_.reset();
  esmtp_ = false;
  auth_user_.reset();
  auth_login_user_.clear();
  reset_transaction();
  mode_ = Mode::kCommand;
}

// A reply to a bad command: too many of them and the session ends (RFC 5321
// 4.3.2 allows 421 at any time), so a confused or hostile peer cannot loop.
void SmtpProtocol::error_reply(int code, std::string_view enhanced, std::string_view text) {
  reply(code, enhanced, text);
  if (++errors_ >= limits_.max_errors) {
    close_after_reply(421, "4.7.0", "Too many errors, closing connection");
  }
}

void SmtpProtocol::close_after_reply(int code, std::string_view enhanced, std::string_view text) {
  reply(code, enhanced, limits_.hostname + " " + std::string(text));
  mode_ = Mode::kClosed;
  std::string().swap(in_);  // nothing after this is read
  in_pos_ = 0;
}

void SmtpProtocol::reset_transaction() {
  reverse_path_.reset();
  smtputf8_ = false;
  recipients_.clear();
  recipient_rejected_ = false;
  // A connection sending message after message reuses the buffer instead of
  // growing a new one by doubling each time; one past 1 MiB is given back.
  if (message_.capacity() > (std::size_t{1} << 20)) std::string().swap(message_);
  message_.clear();
  message_too_big_ = false;
}

// RFC 5321 4.4 trace field; "for" only with one recipient (several would
// disclose Bcc recipients to each other).
void SmtpProtocol::append_received_header(std::string& raw) const {
  // RFC 3848 / RFC 6531: "S" for TLS, "A" for an authenticated session.
  std::string_view protocol = !esmtp_ ? "SMTP" : smtputf8_ ? "UTF8SMTP" : "ESMTP";
  raw += "Received: from ";
  raw += helo_.value_or("unknown");
  raw += " ([";
  raw += peer_;
  raw += "])\r\n\tby ";
  raw += limits_.hostname;
  raw += " with ";
  raw += protocol;
  if (esmtp_ && tls_) raw += 'S';
  if (esmtp_ && auth_user_) raw += 'A';
  if (recipients_.size() == 1) {
    raw += "\r\n\tfor <";
    raw += recipients_.front();
    raw += ">";
  }
  raw += "; ";
  raw += date_();
  raw += "\r\n";
}

}  // namespace tempmail::local::detail
