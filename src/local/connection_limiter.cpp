#include "local/connection_limiter.hpp"

namespace tempmail::local::detail {

ConnectionLimiter::Slot::Slot(std::shared_ptr<ConnectionLimiter> owner,
                              std::unique_ptr<Entry> entry)
    : owner_(std::move(owner)), entry_(std::move(entry)) {}
ConnectionLimiter::Slot::Slot(Slot&&) noexcept = default;
ConnectionLimiter::Slot& ConnectionLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (owner_ && entry_) owner_->release(entry_.get());
    owner_ = std::move(other.owner_);
    entry_ = std::move(other.entry_);
  }
  return *this;
}
ConnectionLimiter::Slot::~Slot() {
  if (owner_ && entry_) owner_->release(entry_.get());
}

void ConnectionLimiter::Slot::on_evict(Evict evict) {
  const std::lock_guard lock(owner_->mutex_);
  entry_->evict = std::move(evict);
}
void ConnectionLimiter::Slot::idle() { owner_->make_idle(entry_.get()); }
void ConnectionLimiter::Slot::busy() { owner_->make_busy(entry_.get()); }
void ConnectionLimiter::Slot::keep() { owner_->stop_evicting(entry_.get()); }

ConnectionLimiter::~ConnectionLimiter() = default;

void ConnectionLimiter::link(IdleList& list, Links Entry::*links, Entry* entry) {
  (entry->*links).older = list.newest;
  (entry->*links).newer = nullptr;
  if (list.newest != nullptr) (list.newest->*links).newer = entry;
  list.newest = entry;
  if (list.oldest == nullptr) list.oldest = entry;
}

void ConnectionLimiter::unlink(IdleList& list, Links Entry::*links, Entry* entry) {
  Links& l = entry->*links;
  (l.older != nullptr ? (l.older->*links).newer : list.oldest) = l.newer;
  (l.newer != nullptr ? (l.newer->*links).older : list.newest) = l.older;
  l = {};
}

void ConnectionLimiter::make_idle(Entry* entry) {
  const std::lock_guard lock(mutex_);
  // One asked to close is no longer a candidate: it closes or says keep().
  if (entry->idle || entry->evicting || !entry->evict) return;
  entry->idle = true;
  link(idle_, &Entry::all, entry);
  link(entry->here->idle, &Entry::mine, entry);
}

void ConnectionLimiter::take_out_of_idle(Entry* entry) {
  if (!entry->idle) return;
  entry->idle = false;
  unlink(idle_, &Entry::all, entry);
  unlink(entry->here->idle, &Entry::mine, entry);
}

void ConnectionLimiter::make_busy(Entry* entry) {
  const std::lock_guard lock(mutex_);
  take_out_of_idle(entry);
}

void ConnectionLimiter::stop_evicting(Entry* entry) {
  const std::lock_guard lock(mutex_);
  if (!entry->evicting) return;
  entry->evicting = false;
  --evicting_;
  --entry->here->evicting;
}

std::optional<ConnectionLimiter::Slot> ConnectionLimiter::admit(
    const boost::asio::ip::address& address) {
  Evict evict;
  auto entry = std::make_unique<Entry>();
  {
    const std::lock_guard lock(mutex_);
    auto [it, inserted] = per_address_.try_emplace(address);
    PerAddress& here = it->second;
    // A connection asked to close is as good as gone: its place is taken now.
    const bool address_full = here.open - here.evicting >= max_per_address_;
    const bool listener_full = total_ - evicting_ >= max_total_;
    if (address_full || listener_full) {
      Entry* victim = address_full ? here.idle.oldest : idle_.oldest;
      if (victim == nullptr) {
        if (here.open == 0) per_address_.erase(it);
        return std::nullopt;
      }
      take_out_of_idle(victim);
      victim->evicting = true;
      ++evicting_;
      ++victim->here->evicting;
      evict = victim->evict;
    }
    ++total_;
    ++here.open;
    entry->here = &here;
    entry->address = address;
  }
  if (evict) evict();
  return Slot(shared_from_this(), std::move(entry));
}

std::size_t ConnectionLimiter::open() const {
  const std::lock_guard lock(mutex_);
  return total_;
}

void ConnectionLimiter::release(Entry* entry) {
  const std::lock_guard lock(mutex_);
  PerAddress& here = *entry->here;
  take_out_of_idle(entry);
  if (entry->evicting) {
    --evicting_;
    --here.evicting;
  }
  --total_;
  if (--here.open == 0) per_address_.erase(entry->address);
}

}  // namespace tempmail::local::detail
