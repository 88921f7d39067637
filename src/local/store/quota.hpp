// The quota book: how many API calls each account made this calendar month
// (UTC), in memory. The store loads the current month's counts at start-up
// and the writer flushes the counts that changed (take_dirty) with its next
// transaction; a count lost to kill -9 is harmless, a disk write per call
// would not be.
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tempmail::local::detail {

struct QuotaState {
  std::int64_t limit = 0;
  std::int64_t used = 0;
  std::chrono::sys_seconds reset{};
  [[nodiscard]] std::int64_t remaining() const { return used >= limit ? 0 : limit - used; }
  [[nodiscard]] bool exhausted() const { return used >= limit; }
};

/// One account's count for one month, as the database keeps it.
struct QuotaRow {
  std::string account;
  std::string month;  ///< "YYYY-MM"
  std::int64_t used = 0;

  bool operator==(const QuotaRow&) const = default;
};

class QuotaBook {
 public:
  /// `limit` calls per account per month; std::invalid_argument when negative.
  explicit QuotaBook(std::int64_t limit);

  /// "YYYY-MM" of `t` (UTC): the month a call at `t` counts in.
  static std::string month_of(std::chrono::sys_seconds t);

  /// A count read back from the database; not dirty.
  void load(QuotaRow row);
  /// The account's state at `now` (a new month starts at zero).
  [[nodiscard]] QuotaState state(std::string_view account, std::chrono::sys_seconds now);
  /// Counts one call at `now` and returns the state after it.
  QuotaState count(std::string_view account, std::chrono::sys_seconds now);

  /// True when some count changed since the last take_dirty().
  [[nodiscard]] bool dirty() const;
  /// The counts that changed, now marked clean.
  std::vector<QuotaRow> take_dirty();
  /// Marks again as changed the rows take_dirty() gave, when writing them failed.
  void restore_dirty(const std::vector<QuotaRow>& rows);

 private:
  struct Counter {
    std::string month;
    std::int64_t used = 0;
    bool dirty = false;
  };
  // Under mu_: the account's counter, reset when `month` is a new one.
  Counter& counter_locked(std::string_view account, const std::string& month);
  QuotaState state_of(const Counter& c, std::chrono::sys_seconds now) const;

  const std::int64_t limit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Counter> counters_;
  bool dirty_ = false;
};

}  // namespace tempmail::local::detail
