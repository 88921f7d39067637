// Counts the open connections of a listener, in total and per peer address,
// so that one client (a thousand idle connections, say) cannot take every
// slot while others wait. Shared by the HTTP and SMTP listeners.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace tempmail::local::detail {

class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  /// A connection's place; frees itself when destroyed. Movable.
  class Slot {
   public:
    Slot(Slot&&) noexcept = default;
    Slot& operator=(Slot&&) noexcept = default;
    ~Slot();

   private:
    friend class ConnectionLimiter;
    Slot(std::shared_ptr<ConnectionLimiter> owner, boost::asio::ip::address address)
        : owner_(std::move(owner)), address_(std::move(address)) {}
    std::shared_ptr<ConnectionLimiter> owner_;
    boost::asio::ip::address address_;
  };

  ConnectionLimiter(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  /// A slot for a connection from `address`, or nullopt when the listener or
  /// that address already has as many connections as it may.
  [[nodiscard]] std::optional<Slot> admit(const boost::asio::ip::address& address);
  [[nodiscard]] std::size_t open() const;

 private:
  void release(const boost::asio::ip::address& address);

  const std::size_t max_total_;
  const std::size_t max_per_address_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<boost::asio::ip::address, std::size_t> per_address_;
};

}  // namespace tempmail::local::detail
