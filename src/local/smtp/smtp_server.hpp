// The SMTP listener (RFC 5321, server side) over Boost.Asio: accepts
// connections, runs one session state machine per connection, and hands each
// complete message to a MailSink; answers 250 only once the sink says the
// message is durable.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "local/io_pool.hpp"
#include "local/mail_sink.hpp"

namespace tempmail::local::detail {

struct SmtpLimits {
  std::string hostname = "tempmail.local";         // in the greeting and EHLO reply
  std::size_t max_message_bytes = std::size_t{25} << 20;  // SIZE; over it: 552
  std::size_t max_recipients = 100;                // more RCPT: 452
  std::size_t max_command_line = 2048;             // longer command line: 500
  std::size_t max_text_line = 1 << 20;             // longer DATA line: 552/500 and close
  std::chrono::seconds idle_timeout{300};          // no command for this long: 421 and close
  std::size_t max_connections = 4096;              // more: 421 at greeting
  std::size_t max_connections_per_address = 256;   // from one client address: 421
  std::size_t max_errors = 20;                     // bad commands in a session before 421
};

class SmtpServer {
 public:
  /// Binds and listens on `endpoint` (port 0: any free port); throws
  /// boost::system::system_error when it cannot. Does not accept yet. It
  /// accepts on `ioc`; each session runs on `sessions()` (empty: on `ioc`).
  SmtpServer(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint,
             MailSink& sink, SmtpLimits limits = {}, ContextPicker sessions = {});
  ~SmtpServer();
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;
  /// Starts accepting on the io_context's threads.
  void start();
  /// Stops accepting and closes idle sessions; a session in the middle of DATA
  /// or waiting for the sink finishes that message first. Safe from any thread.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tempmail::local::detail
