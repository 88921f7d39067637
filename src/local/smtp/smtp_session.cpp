// How a session runs: it never reads and writes at once. It reads a chunk,
// processes every complete line in the buffer (pipelined commands in order,
// RFC 2920), writes all the replies in one go, and reads again. Buffered input
// stays bounded: a command line longer than max_command_line, or a DATA line
// longer than max_text_line, is refused without being kept.
#include "local/smtp/smtp_session.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <ctime>
#include <thread>
#include <utility>

#include "common/random.hpp"

namespace tempmail::local::detail {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

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

}  // namespace

SmtpSession::SmtpSession(asio::ip::tcp::socket socket, std::shared_ptr<SmtpShared> shared,
                         ConnectionLimiter::Slot slot)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      shared_(std::move(shared)),
      limits_(shared_->limits),
      slot_(std::move(slot)) {
  error_code ec;
  socket_.non_blocking(true, ec);  // write_now() must never block; reads stay asynchronous
  const auto remote = socket_.remote_endpoint(ec);
  peer_ = ec ? "unknown" : remote.address().to_string();
}

SmtpSession::~SmtpSession() {
  const std::lock_guard lock(shared_->mutex);
  shared_->sessions.erase(id_);
}

void SmtpSession::start() {
  bool stopping = false;
  {
    const std::lock_guard lock(shared_->mutex);
    id_ = ++shared_->next_id;
    shared_->sessions.emplace(id_, weak_from_this());
    stopping = shared_->stopping;
  }
  asio::post(socket_.get_executor(), [self = shared_from_this(), stopping] {
    if (stopping) {
      self->close_after_reply(421, "4.3.2", "Service shutting down, try again later");
    } else {
      self->reply(220, "", self->limits_.hostname + " ESMTP tempmail ready");
    }
    self->pump();
  });
}

void SmtpSession::request_stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->stop_requested_ = true;
    // Idle between commands: wake the pending read so pump() says 421.
    const bool idle = self->mode_ == Mode::kCommand || self->mode_ == Mode::kSkipLongLine;
    if (idle && self->read_in_flight_) {
      error_code ignored;
      self->socket_.cancel(ignored);
    }
  });
}

// Processes what is buffered, then writes replies, then reads: one step at a time.
void SmtpSession::pump() {
  if (mode_ == Mode::kClosed || read_in_flight_ || write_in_flight_) return;
  while (!close_after_write_ && mode_ != Mode::kWaitingSink && process_one()) {
  }
  if (in_pos_ > 0) {  // drop what was processed, once per pump
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  if (!out_.empty() && !write_now()) return;  // the rest is in flight, or the session closed
  if (close_after_write_) return close();
  if (mode_ == Mode::kWaitingSink) return;  // on_delivered() pumps again
  start_read();
}

bool SmtpSession::process_one() {
  switch (mode_) {
    case Mode::kCommand:
    case Mode::kSkipLongLine:
      if (stop_requested_) {
        close_after_reply(421, "4.3.2", "Service shutting down, try again later");
        return false;
      }
      return process_command_input();
    case Mode::kData:
      return process_data_input();
    case Mode::kWaitingSink:
    case Mode::kClosed:
      return false;
  }
  return false;
}

bool SmtpSession::process_command_input() {
  const auto newline = in_.find('\n', in_pos_);
  if (mode_ == Mode::kSkipLongLine) {
    // The rest of an overlong line (already answered): drop it.
    if (newline == std::string::npos) {
      in_pos_ = in_.size();
      return false;
    }
    in_pos_ = newline + 1;
    line_since_arm_ = true;
    mode_ = Mode::kCommand;
    return true;
  }
  if (newline == std::string::npos) {
    if (in_.size() - in_pos_ <= limits_.max_command_line) return false;  // wait for more
    in_pos_ = in_.size();
    mode_ = Mode::kSkipLongLine;
    error_reply(500, "5.5.6", "Line too long");
    return true;
  }
  std::string_view line(in_.data() + in_pos_, newline - in_pos_);
  in_pos_ = newline + 1;
  line_since_arm_ = true;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > limits_.max_command_line) {
    error_reply(500, "5.5.6", "Line too long");
    return true;
  }
  handle(parse_command(line));
  return true;
}

bool SmtpSession::process_data_input() {
  const auto newline = in_.find('\n', in_pos_);
  if (newline == std::string::npos) {
    if (in_.size() - in_pos_ > limits_.max_text_line) {
      close_after_reply(500, "5.5.6", "Line too long in message data, closing connection");
    }
    return false;
  }
  std::string_view line(in_.data() + in_pos_, newline - in_pos_);
  in_pos_ = newline + 1;
  line_since_arm_ = true;
  const bool crlf = !line.empty() && line.back() == '\r';
  if (crlf) line.remove_suffix(1);
  // Only <CRLF>.<CRLF> ends the data (RFC 5321 4.1.1.4): a "." line with a
  // bare LF on either side is data, or one message could carry a second one
  // (SMTP smuggling). Bare LF line ends are kept as line ends (stored as CRLF).
  const bool after_crlf = data_line_crlf_;
  data_line_crlf_ = crlf;
  if (line == ".") {
    if (crlf && after_crlf) {
      finish_data();
      return true;
    }
  } else if (!line.empty() && line.front() == '.') {
    line.remove_prefix(1);  // RFC 5321 4.5.2
  }
  if (line.size() > limits_.max_text_line) {
    close_after_reply(500, "5.5.6", "Line too long in message data, closing connection");
    return false;
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

void SmtpSession::handle(const SmtpCommand& command) {
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
      reset_transaction();
      helo_ = command.argument;
      esmtp_ = true;
      out_ += "250-" + limits_.hostname + " greets " + command.argument + "\r\n";
      out_ += "250-PIPELINING\r\n";
      out_ += "250-8BITMIME\r\n";
      out_ += "250-SMTPUTF8\r\n";
      out_ += "250-SIZE " + std::to_string(limits_.max_message_bytes) + "\r\n";
      out_ += "250 ENHANCEDSTATUSCODES\r\n";
      return;
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
      return reply(214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
    case SmtpVerb::kNotImplemented:
    case SmtpVerb::kUnknown:
      break;
  }
}

void SmtpSession::handle_mail(const SmtpCommand& command) {
  if (!helo_) return error_reply(503, "5.5.1", "Send EHLO or HELO first");
  if (reverse_path_) return error_reply(503, "5.5.1", "Sender already given; RSET to start over");
  if (command.size && *command.size > limits_.max_message_bytes) {
    return reply(552, "5.3.4",
                 "Message size exceeds fixed maximum message size of " +
                     std::to_string(limits_.max_message_bytes) + " bytes");
  }
  reverse_path_ = command.address;
  smtputf8_ = command.smtputf8;
  reply(250, "2.1.0", "Ok");
}

void SmtpSession::handle_rcpt(const SmtpCommand& command) {
  if (!reverse_path_) return error_reply(503, "5.5.1", "Need MAIL FROM before RCPT TO");
  std::string address = ascii_lower(command.address);
  if (std::find(recipients_.begin(), recipients_.end(), address) != recipients_.end()) {
    return reply(250, "2.1.5", "Ok");  // the same mailbox twice gets the message once
  }
  if (recipients_.size() >= limits_.max_recipients) {
    return reply(452, "4.5.3", "Too many recipients");
  }
  bool accepted = false;
  try {
    accepted = shared_->sink.accepts_recipient(address);
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

void SmtpSession::handle_data() {
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

void SmtpSession::finish_data() {
  if (message_too_big_) {
    mode_ = Mode::kCommand;
    reset_transaction();
    return reply(552, "5.3.4",
                 "Message size exceeds fixed maximum message size of " +
                     std::to_string(limits_.max_message_bytes) + " bytes");
  }
  const std::string header = received_header();
  auto raw = std::make_shared<std::string>();
  raw->reserve(header.size() + message_.size());
  raw->append(header);
  raw->append(message_);
  message_.clear();            // keeps its capacity for the next message (see reset_transaction)
  mode_ = Mode::kWaitingSink;  // a slow sink is not an idle client: on_timer() waits

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
    shared_->sink.deliver(std::move(raw), recipients_, done);
  } catch (const std::exception&) {
    done(std::make_error_code(std::errc::io_error));
  }
  in_deliver_ = false;
  if (delivered_now_) {
    const std::error_code error = *delivered_now_;
    delivered_now_.reset();
    answer_delivery(error);  // pump() goes on from here
  }
}

void SmtpSession::on_delivered(std::error_code error) {
  if (mode_ != Mode::kWaitingSink) return;
  answer_delivery(error);
  pump();
}

void SmtpSession::answer_delivery(std::error_code error) {
  mode_ = Mode::kCommand;
  reset_transaction();
  if (error) {
    reply(451, "4.3.0", "Could not store the message, try again later");
  } else {
    reply(250, "2.0.0", "Ok: queued");
  }
}

void SmtpSession::reply(int code, std::string_view enhanced, std::string_view text) {
  out_ += std::to_string(code);
  out_ += ' ';
  if (!enhanced.empty()) {
    out_ += enhanced;
    out_ += ' ';
  }
  out_ += text;
  out_ += "\r\n";
}

// A reply to a bad command: too many of them and the session ends (RFC 5321
// 4.3.2 allows 421 at any time), so a confused or hostile peer cannot loop.
void SmtpSession::error_reply(int code, std::string_view enhanced, std::string_view text) {
  reply(code, enhanced, text);
  if (++errors_ >= limits_.max_errors) {
    close_after_reply(421, "4.7.0", "Too many errors, closing connection");
  }
}

void SmtpSession::close_after_reply(int code, std::string_view enhanced, std::string_view text) {
  reply(code, enhanced, limits_.hostname + " " + std::string(text));
  close_after_write_ = true;
}

void SmtpSession::reset_transaction() {
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
std::string SmtpSession::received_header() const {
  const char* protocol = esmtp_ ? (smtputf8_ ? "UTF8SMTP" : "ESMTP") : "SMTP";
  std::string header = "Received: from " + helo_.value_or("unknown") + " ([" + peer_ + "])\r\n";
  header += "\tby " + limits_.hostname + " with " + protocol;
  if (recipients_.size() == 1) header += "\r\n\tfor <" + recipients_.front() + ">";
  header += "; " + rfc5322_now() + "\r\n";
  return header;
}

void SmtpSession::start_read() {
  read_in_flight_ = true;
  if (line_since_arm_) {
    line_since_arm_ = false;
    arm_timer();
  }
  socket_.async_read_some(
      asio::buffer(chunk_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
        self->read_in_flight_ = false;
        if (self->mode_ == Mode::kClosed) return;
        if (ec == asio::error::operation_aborted && (self->timed_out_ || self->stop_requested_)) {
          if (self->timed_out_) {
            self->close_after_reply(421, "4.4.2", "Idle timeout, closing connection");
          }
          return self->pump();  // a stop request says 421 from process_one()
        }
        if (ec) return self->close();  // peer gone (EOF, reset)
        self->in_.append(self->chunk_.data(), n);
        self->pump();
      });
}

// Writes the replies now, as far as the socket takes them without blocking.
// True when all were written; otherwise the rest is in flight (or the session
// closed on an error). Rationale: replies are small and nearly always fit the
// socket's buffer; an asynchronous write costs a handler and a reactor round
// for each, four per message on one reused connection (bench/RESULTS.md).
bool SmtpSession::write_now() {
  arm_timer();
  error_code ec;
  const std::size_t n = socket_.write_some(asio::buffer(out_), ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
    close();  // peer gone
    return false;
  }
  if (n == out_.size()) {
    out_.clear();
    return true;
  }
  out_.erase(0, n);
  start_write();
  return false;
}

void SmtpSession::start_write() {
  write_in_flight_ = true;
  writing_.swap(out_);
  out_.clear();
  arm_timer();
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](const error_code& ec, std::size_t) {
                      self->write_in_flight_ = false;
                      self->writing_.clear();
                      if (self->mode_ == Mode::kClosed) return;
                      if (ec) return self->close();
                      self->pump();
                    });
}

// Every read and write pushes the idle deadline back, but the timer itself is
// armed only when no wait is pending, and re-armed from on_timer() when the
// deadline moved. Rationale: re-arming an Asio timer per I/O cancels the
// pending wait (one more handler to run) and reprograms the reactor's timerfd
// (a syscall): two of each per SMTP command, which on one reused connection
// cost more than the command itself (bench/RESULTS.md, SMTP ingest).
void SmtpSession::arm_timer() {
  idle_deadline_ = std::chrono::steady_clock::now() + limits_.idle_timeout;
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
  if (mode_ == Mode::kClosed || mode_ == Mode::kWaitingSink) return;
  if (idle_deadline_ > std::chrono::steady_clock::now()) return start_timer();
  if (read_in_flight_) {
    timed_out_ = true;
    error_code ignored;
    socket_.cancel(ignored);  // the read handler answers 421 and closes
  } else if (write_in_flight_) {
    close();  // the client stopped reading our replies: give up
  }
}

void SmtpSession::close() {
  if (mode_ == Mode::kClosed) return;
  mode_ = Mode::kClosed;
  error_code ignored;
  timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace tempmail::local::detail
