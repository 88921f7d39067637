// The SMTP listener (RFC 5321, server side) over Boost.Asio: accepts
// connections, runs one session state machine per connection, and hands each
// complete message to a MailSink; answers 250 only once the sink says the
// message is durable.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "local/io_pool.hpp"
#include "local/mail_sink.hpp"
#include "local/smtp/limits.hpp"
#include "local/smtp/protocol.hpp"

namespace tempmail::local::detail {

/// What a listener offers beyond plain SMTP: TLS (RFC 3207 STARTTLS, RFC 8314
/// implicit TLS) and what it requires of clients.
struct SmtpSecurity {
  /// The certificate for STARTTLS and implicit TLS; nullptr: no TLS. Must
  /// outlive the listener.
  boost::asio::ssl::context* tls = nullptr;
  /// Every connection is TLS from its first byte (needs `tls`).
  bool implicit_tls = false;
  /// STARTTLS offered (needs `tls`), TLS or AUTH required, the credentials.
  SmtpProtocolOptions protocol{};
};

class SmtpServer {
 public:
  /// Binds and listens on `endpoint` (port 0: any free port); throws
  /// boost::system::system_error when it cannot. Does not accept yet. It
  /// accepts on `ioc`; each session runs on `sessions()` (empty: on `ioc`).
  SmtpServer(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint,
             MailSink& sink, SmtpLimits limits = {}, ContextPicker sessions = {},
             SmtpSecurity security = {});
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
