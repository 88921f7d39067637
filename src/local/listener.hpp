// One TCP listener for every protocol the local server speaks (HTTP, SMTP,
// SMTP over TLS): binds, accepts, admits each connection through a
// ConnectionLimiter (or refuses it), keeps the list of live sessions, and
// stops them. Rationale: the HTTP and SMTP listeners drifted apart; on an
// accept error (out of descriptors) the HTTP one retried at once, spinning and
// logging in a loop, while the SMTP one backed off. Here both back off.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>

#include "local/connection_limiter.hpp"
#include "local/io_pool.hpp"

namespace tempmail::local::detail {

/// What the listener can ask of a session it tracks.
class ListenedSession {
 public:
  virtual ~ListenedSession() = default;
  /// From any thread: end as soon as the session is not in the middle of a
  /// request or message (which it finishes and answers first).
  virtual void request_stop() = 0;
};

class Listener {
 public:
  /// Starts a session for an admitted connection and returns it, for stop()
  /// to reach. Must not refer to the Listener (accepts may finish after it).
  using Admit = std::function<std::shared_ptr<ListenedSession>(boost::asio::ip::tcp::socket,
                                                               ConnectionLimiter::Slot)>;
  /// Says goodbye to a connection over the caps (SMTP: a 421), then closes it.
  using Refuse = std::function<void(boost::asio::ip::tcp::socket)>;

  /// Binds and listens on `endpoint` (port 0: any free port); throws
  /// boost::system::system_error when it cannot. Accepts on `ioc`; each
  /// connection's socket uses a strand of `sessions()` (empty: of `ioc`).
  /// `what` names the listener in the log ("HTTP", "SMTP").
  Listener(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint,
           std::size_t max_connections, std::size_t max_per_address, ContextPicker sessions,
           std::string what, Admit admit, Refuse refuse);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;
  /// Starts accepting on the io_context's threads.
  void start();
  /// Stops accepting and asks every live session to stop. Safe from any
  /// thread; idempotent.
  void stop();
  [[nodiscard]] bool stopping() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tempmail::local::detail
