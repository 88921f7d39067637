#include "local/connection_limiter.hpp"

namespace tempmail::local::detail {

ConnectionLimiter::Slot::~Slot() {
  if (owner_) owner_->release(address_);
}

std::optional<ConnectionLimiter::Slot> ConnectionLimiter::admit(
    const boost::asio::ip::address& address) {
  {
    const std::lock_guard lock(mutex_);
    auto& mine = per_address_[address];
    if (total_ >= max_total_ || mine >= max_per_address_) {
      if (mine == 0) per_address_.erase(address);
      return std::nullopt;
    }
    ++total_;
    ++mine;
  }
  return Slot(shared_from_this(), address);
}

std::size_t ConnectionLimiter::open() const {
  const std::lock_guard lock(mutex_);
  return total_;
}

void ConnectionLimiter::release(const boost::asio::ip::address& address) {
  const std::lock_guard lock(mutex_);
  --total_;
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

}  // namespace tempmail::local::detail
