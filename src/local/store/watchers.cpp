#include "local/store/watchers.hpp"

#include <unordered_set>

namespace tempmail::local::detail {

WatchList::WatchId WatchList::add(std::int64_t mailbox, std::function<void()> wake) {
  std::lock_guard lock(mu_);
  const WatchId id = next_++;
  watchers_.emplace(id, Watcher{mailbox, std::move(wake)});
  return id;
}

void WatchList::remove(WatchId id) {
  std::lock_guard lock(mu_);
  watchers_.erase(id);
}

void WatchList::wake(const std::vector<std::int64_t>& mailboxes) {
  if (mailboxes.empty()) return;
  std::vector<std::function<void()>> wakes;
  {
    const std::unordered_set<std::int64_t> ids(mailboxes.begin(), mailboxes.end());
    std::lock_guard lock(mu_);
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      if (ids.contains(it->second.mailbox)) {
        wakes.push_back(std::move(it->second.wake));
        it = watchers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // Outside the lock: a callback may add or remove watchers.
  for (auto& w : wakes) w();
}

std::size_t WatchList::size() const {
  std::lock_guard lock(mu_);
  return watchers_.size();
}

}  // namespace tempmail::local::detail
