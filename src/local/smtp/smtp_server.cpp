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

struct SmtpServer::Impl : std::enable_shared_from_this<SmtpServer::Impl> {
  Impl(asio::io_context& ioc, const tcp::endpoint& endpoint, MailSink& sink, SmtpLimits limits,
       ContextPicker sessions, SmtpSecurity security)
      : ioc(ioc),
        pick(std::move(sessions)),
        acceptor(asio::make_strand(ioc)),
        retry_timer(acceptor.get_executor()),
        shared(std::make_shared<SmtpShared>(sink, std::move(limits), std::move(security))) {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
  }

  void accept() {
    acceptor.async_accept(asio::make_strand(pick ? pick() : ioc),
                          [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
                            if (!self->acceptor.is_open()) return;  // stop() closed it
                            if (ec) {
                              // Out of descriptors and the like: back off a little instead of
                              // spinning.
                              self->retry_timer.expires_after(std::chrono::milliseconds(50));
                              self->retry_timer.async_wait([self](const error_code& wait_error) {
                                if (!wait_error && self->acceptor.is_open()) self->accept();
                              });
                              return;
                            }
                            self->admit(std::move(socket));
                            self->accept();
                          });
  }

  void admit(tcp::socket socket) {
    error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    auto slot = ec ? std::nullopt : shared->connections->admit(peer.address());
    if (slot) {
      std::make_shared<SmtpSession>(std::move(socket), shared, std::move(*slot))->start();
      return;
    }
    // RFC 5321 3.1: a server may answer 421 instead of 220 and close.
    auto rejected = std::make_shared<tcp::socket>(std::move(socket));
    auto reply = std::make_shared<std::string>("421 4.3.2 " + shared->limits.hostname +
                                               " Too many connections, try again later\r\n");
    asio::async_write(*rejected, asio::buffer(*reply),
                      [rejected, reply](const error_code&, std::size_t) {
                        error_code ignored;
                        rejected->shutdown(tcp::socket::shutdown_both, ignored);
                        rejected->close(ignored);
                      });
  }

  void stop() {
    std::vector<std::shared_ptr<SmtpSession>> sessions;
    {
      const std::lock_guard lock(shared->mutex);
      shared->stopping = true;
      for (auto& [id, weak] : shared->sessions) {
        if (auto session = weak.lock()) sessions.push_back(std::move(session));
      }
    }
    asio::post(acceptor.get_executor(), [self = shared_from_this()] {
      error_code ignored;
      self->acceptor.close(ignored);
      self->retry_timer.cancel();
    });
    for (auto& session : sessions) session->request_stop();
  }

  asio::io_context& ioc;
  ContextPicker pick;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::shared_ptr<SmtpShared> shared;
  tcp::endpoint bound;
};

SmtpServer::SmtpServer(asio::io_context& ioc, const tcp::endpoint& endpoint, MailSink& sink,
                       SmtpLimits limits, ContextPicker sessions, SmtpSecurity security)
    : impl_(std::make_shared<Impl>(ioc, endpoint, sink, std::move(limits), std::move(sessions),
                                   std::move(security))) {
  if ((impl_->shared->security.implicit_tls || impl_->shared->security.protocol.offer_starttls) &&
      impl_->shared->security.tls == nullptr)
    throw std::invalid_argument(
        "an SMTP listener with TLS needs a certificate (SmtpSecurity::tls)");
  impl_->bound = impl_->acceptor.local_endpoint();
}

SmtpServer::~SmtpServer() { stop(); }

tcp::endpoint SmtpServer::local_endpoint() const { return impl_->bound; }

void SmtpServer::start() {
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] { impl->accept(); });
}

void SmtpServer::stop() { impl_->stop(); }

}  // namespace tempmail::local::detail
