#include "local/listener.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <mutex>
#include <vector>

#include "local/log.hpp"

namespace tempmail::local::detail {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// After an accept error (EMFILE, ENFILE, ENOBUFS...): wait, doubling from the
// first delay to the last, and log a run of failures at most once a second.
constexpr std::chrono::milliseconds kFirstRetry{10};
constexpr std::chrono::milliseconds kLastRetry{1000};
constexpr std::chrono::seconds kLogEvery{1};

}  // namespace

struct Listener::Impl : std::enable_shared_from_this<Listener::Impl> {
  Impl(asio::io_context& ioc, const tcp::endpoint& endpoint, std::size_t max_total,
       std::size_t max_per_address, ContextPicker sessions, std::string what, Admit admit,
       Refuse refuse)
      : ioc(ioc),
        pick(std::move(sessions)),
        acceptor(asio::make_strand(ioc)),
        retry_timer(acceptor.get_executor()),
        connections(std::make_shared<ConnectionLimiter>(max_total, max_per_address)),
        what(std::move(what)),
        admit(std::move(admit)),
        refuse(std::move(refuse)) {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    bound = acceptor.local_endpoint();
  }

  void accept() {
    acceptor.async_accept(asio::make_strand(pick ? pick() : ioc),
                          [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
                            if (!self->acceptor.is_open()) return;  // stop() closed it
                            if (ec) return self->back_off(ec);
                            if (self->failures > 0) {
                              log_line(self->what + ": accepting connections again after " +
                                       std::to_string(self->failures) + " failed accepts");
                              self->failures = 0;
                            }
                            self->admit_or_refuse(std::move(socket));
                            self->accept();
                          });
  }

  // Out of descriptors and the like: the error repeats until a connection
  // closes, so retrying at once would spin (and log) in a loop.
  void back_off(const error_code& ec) {
    ++failures;
    const auto delay = std::min<std::chrono::milliseconds>(
        kLastRetry, kFirstRetry * (1 << std::min<std::uint64_t>(failures - 1, 10)));
    const auto now = std::chrono::steady_clock::now();
    if (failures == 1 || now - last_log >= kLogEvery) {
      log_line(what + ": accepting a connection failed (" + ec.message() + "); retrying in " +
               std::to_string(delay.count()) + " ms" +
               (failures > 1 ? " (" + std::to_string(failures) + " failures in a row)" : ""));
      last_log = now;
    }
    retry_timer.expires_after(delay);
    retry_timer.async_wait([self = shared_from_this()](const error_code& wait_error) {
      if (!wait_error && self->acceptor.is_open()) self->accept();
    });
  }

  void admit_or_refuse(tcp::socket socket) {
    error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    auto slot = ec ? std::nullopt : connections->admit(peer.address());
    if (!slot || stopping.load()) return refuse(std::move(socket));
    if (auto session = admit(std::move(socket), std::move(*slot)); session && !track(session))
      session->request_stop();  // stop() came in between: tell it as stop() told the others
  }

  // False when stopping (stop() has told the sessions it knew already).
  bool track(const std::shared_ptr<ListenedSession>& session) {
    const std::lock_guard lock(mu);
    if (stopping.load()) return false;
    std::erase_if(sessions, [](const auto& w) { return w.expired(); });
    sessions.push_back(session);
    return true;
  }

  asio::io_context& ioc;
  ContextPicker pick;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  tcp::endpoint bound;
  const std::shared_ptr<ConnectionLimiter> connections;
  const std::string what;
  const Admit admit;
  const Refuse refuse;
  std::uint64_t failures = 0;  // on the acceptor's strand
  std::chrono::steady_clock::time_point last_log{};

  std::atomic<bool> stopping{false};
  std::mutex mu;  // guards sessions
  std::vector<std::weak_ptr<ListenedSession>> sessions;
};

Listener::Listener(asio::io_context& ioc, const tcp::endpoint& endpoint,
                   std::size_t max_connections, std::size_t max_per_address,
                   ContextPicker sessions, std::string what, Admit admit, Refuse refuse)
    : impl_(std::make_shared<Impl>(ioc, endpoint, max_connections, max_per_address,
                                   std::move(sessions), std::move(what), std::move(admit),
                                   std::move(refuse))) {}

Listener::~Listener() { stop(); }

tcp::endpoint Listener::local_endpoint() const { return impl_->bound; }

void Listener::start() {
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] { impl->accept(); });
}

bool Listener::stopping() const { return impl_->stopping.load(); }

void Listener::stop() {
  std::vector<std::shared_ptr<ListenedSession>> live;
  {
    const std::lock_guard lock(impl_->mu);
    if (impl_->stopping.exchange(true)) return;
    for (auto& w : impl_->sessions)
      if (auto s = w.lock()) live.push_back(std::move(s));
    impl_->sessions.clear();
  }
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    error_code ignored;
    impl->acceptor.close(ignored);
    impl->retry_timer.cancel();
  });
  for (auto& s : live) s->request_stop();
}

}  // namespace tempmail::local::detail
