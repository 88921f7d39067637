// Counts the open connections of a listener, in total and per peer address,
// so that one client (a thousand idle connections, say) cannot take every
// slot while others wait. Shared by the HTTP and SMTP listeners.
//
// At a cap, idle connections make room: a connection that waits for its
// client's next request or command marks its slot idle, and a newcomer over
// a cap closes the longest-idle connection (of its own address when that
// address is at its cap, else of any) instead of being refused, as web
// servers close idle keep-alive connections. Rationale: on loopback every
// client shares 127.0.0.1, so without this 256 idle connections locked every
// other local client out (issue 16). Only when no connection is idle is a
// newcomer refused.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace tempmail::local::detail {

class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
  struct Entry;

 public:
  /// Asks a connection to close because a newcomer needs its place; called on
  /// the admitting thread, so it must only post to the connection's own
  /// executor. The connection then closes if it is still idle, else calls
  /// `Slot::keep()`.
  using Evict = std::function<void()>;

  /// A connection's place; frees itself when destroyed. Movable. Its methods
  /// are called from the connection's own executor.
  class Slot {
   public:
    Slot(Slot&&) noexcept;
    Slot& operator=(Slot&&) noexcept;
    ~Slot();

    /// How to ask this connection to close; set before the first `idle()`.
    void on_evict(Evict evict);
    /// Waiting for the client's next request or command: may be closed for a newcomer.
    void idle();
    /// Work arrived: not to be closed for a newcomer.
    void busy();
    /// An eviction found the connection busy after all: it stays and counts again.
    void keep();

   private:
    friend class ConnectionLimiter;
    Slot(std::shared_ptr<ConnectionLimiter> owner, std::unique_ptr<Entry> entry);
    std::shared_ptr<ConnectionLimiter> owner_;
    std::unique_ptr<Entry> entry_;
  };

  ConnectionLimiter(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}
  ~ConnectionLimiter();

  /// A slot for a connection from `address`. At a cap the longest-idle
  /// connection that frees a place is asked to close (its Evict is called
  /// before this returns); nullopt when none is idle.
  [[nodiscard]] std::optional<Slot> admit(const boost::asio::ip::address& address);
  /// Open connections, including those asked to close that have not yet.
  [[nodiscard]] std::size_t open() const;

 private:
  struct PerAddress;
  // An intrusive list of idle entries, oldest first: O(1) to mark idle or busy.
  struct IdleList {
    Entry* oldest = nullptr;
    Entry* newest = nullptr;
  };
  struct Links {
    Entry* older = nullptr;
    Entry* newer = nullptr;
  };
  struct PerAddress {
    std::size_t open = 0;
    std::size_t evicting = 0;  // asked to close, not closed yet
    IdleList idle;
  };
  struct Entry {
    PerAddress* here = nullptr;  // unordered_map nodes do not move
    boost::asio::ip::address address;
    Evict evict;
    Links all;   // in idle_
    Links mine;  // in here->idle
    bool idle = false;
    bool evicting = false;
  };

  static void link(IdleList& list, Links Entry::*links, Entry* entry);
  static void unlink(IdleList& list, Links Entry::*links, Entry* entry);
  void take_out_of_idle(Entry* entry);  // with mutex_ held
  void make_idle(Entry* entry);
  void make_busy(Entry* entry);
  void stop_evicting(Entry* entry);
  void release(Entry* entry);

  const std::size_t max_total_;
  const std::size_t max_per_address_;
  mutable std::mutex mutex_;  // guards what follows and every Entry's lists and flags
  std::size_t total_ = 0;
  std::size_t evicting_ = 0;
  IdleList idle_;
  std::unordered_map<boost::asio::ip::address, PerAddress> per_address_;
};

}  // namespace tempmail::local::detail
