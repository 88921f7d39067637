// The watch list: long-polls waiting for a commit that changes a mailbox.
// The store adds a watcher once it has checked the mailbox is the caller's,
// and wakes a mailbox's watchers after every commit that adds a message to
// it or removes it (and all of them when it stops).
//
// Thread safety: every member may be called from any thread; `wake`
// callbacks run on the thread that calls wake(), outside the list's lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace tempmail::local::detail {

class WatchList {
 public:
  using WatchId = std::uint64_t;

  /// Calls `wake` once, at the next wake() naming `mailbox`; never 0.
  WatchId add(std::int64_t mailbox, std::function<void()> wake);
  /// Forgets a watcher that has not fired; harmless when it has.
  void remove(WatchId id);
  /// Calls, and forgets, every watcher of the mailboxes `mailboxes` names.
  void wake(const std::vector<std::int64_t>& mailboxes);
  [[nodiscard]] std::size_t size() const;

 private:
  struct Watcher {
    std::int64_t mailbox;
    std::function<void()> wake;
  };
  mutable std::mutex mu_;
  std::unordered_map<WatchId, Watcher> watchers_;
  WatchId next_ = 1;
};

}  // namespace tempmail::local::detail
