#include "local/smtp/smtp_server.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

#include "local/smtp/smtp_session.hpp"

namespace tempmail::local::detail {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

struct SmtpServer::Impl {
  Impl(asio::io_context& ioc, const tcp::endpoint& endpoint, MailSink& sink, SmtpLimits limits,
       ContextPicker sessions, SmtpSecurity security)
      : shared(std::make_shared<SmtpShared>(sink, std::move(limits), std::move(security))),
        listener(ioc, endpoint, shared->limits.max_connections,
                 shared->limits.max_connections_per_address, std::move(sessions), "SMTP",
                 [shared = shared](tcp::socket socket, ConnectionLimiter::Slot slot) {
                   auto session =
                       std::make_shared<SmtpSession>(std::move(socket), shared, std::move(slot));
                   session->start();
                   return session;
                 },
                 [shared = shared](tcp::socket socket) { refuse(shared->limits, std::move(socket)); }) {
  }

  // RFC 5321 3.1: a server may answer 421 instead of 220 and close.
  static void refuse(const SmtpLimits& limits, tcp::socket socket) {
    auto rejected = std::make_shared<tcp::socket>(std::move(socket));
    auto reply = std::make_shared<std::string>("421 4.3.2 " + limits.hostname +
                                               " Too many connections, try again later\r\n");
    asio::async_write(*rejected, asio::buffer(*reply),
                      [rejected, reply](const error_code&, std::size_t) {
                        error_code ignored;
                        rejected->shutdown(tcp::socket::shutdown_both, ignored);
                        rejected->close(ignored);
                      });
  }

  std::shared_ptr<SmtpShared> shared;
  Listener listener;
};

SmtpServer::SmtpServer(asio::io_context& ioc, const tcp::endpoint& endpoint, MailSink& sink,
                       SmtpLimits limits, ContextPicker sessions, SmtpSecurity security)
    : impl_(std::make_shared<Impl>(ioc, endpoint, sink, std::move(limits), std::move(sessions),
                                   std::move(security))) {
  if ((impl_->shared->security.implicit_tls || impl_->shared->security.protocol.offer_starttls) &&
      impl_->shared->security.tls == nullptr)
    throw std::invalid_argument("an SMTP listener with TLS needs a certificate (SmtpSecurity::tls)");
}

SmtpServer::~SmtpServer() { stop(); }

tcp::endpoint SmtpServer::local_endpoint() const { return impl_->listener.local_endpoint(); }

void SmtpServer::start() { impl_->listener.start(); }

void SmtpServer::stop() {
  impl_->shared->stopping = true;
  impl_->listener.stop();
}

}  // namespace tempmail::local::detail
