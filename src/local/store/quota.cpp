#include "local/store/quota.hpp"

#include <stdexcept>

#include "common/time.hpp"

namespace tempmail::local::detail {

QuotaBook::QuotaBook(std::int64_t limit) : limit_(limit) {
  if (limit < 0) throw std::invalid_argument("StoreOptions::monthly_quota must not be negative");
}

std::string QuotaBook::month_of(std::chrono::sys_seconds t) {
  return tempmail::detail::format_iso8601(t).substr(0, 7);  // "YYYY-MM-DDT..."
}

void QuotaBook::load(QuotaRow row) {
  std::lock_guard lock(mu_);
  counters_[std::move(row.account)] =
      Counter{.month = std::move(row.month), .used = row.used, .dirty = false};
}

QuotaBook::Counter& QuotaBook::counter_locked(std::string_view account, const std::string& month) {
  auto& c = counters_[std::string(account)];
  if (c.month != month) c = Counter{.month = month, .used = 0, .dirty = false};
  return c;
}

QuotaState QuotaBook::state_of(const Counter& c, std::chrono::sys_seconds now) const {
  return QuotaState{
      .limit = limit_, .used = c.used, .reset = tempmail::detail::start_of_next_month(now)};
}

QuotaState QuotaBook::state(std::string_view account, std::chrono::sys_seconds now) {
  const std::string month = month_of(now);
  std::lock_guard lock(mu_);
  return state_of(counter_locked(account, month), now);
}

QuotaState QuotaBook::count(std::string_view account, std::chrono::sys_seconds now) {
  const std::string month = month_of(now);
  std::lock_guard lock(mu_);
  auto& c = counter_locked(account, month);
  ++c.used;
  c.dirty = true;
  dirty_ = true;
  return state_of(c, now);
}

bool QuotaBook::dirty() const {
  std::lock_guard lock(mu_);
  return dirty_;
}

std::vector<QuotaRow> QuotaBook::take_dirty() {
  std::vector<QuotaRow> rows;
  std::lock_guard lock(mu_);
  for (auto& [account, c] : counters_) {
    if (!c.dirty) continue;
    rows.push_back(QuotaRow{.account = account, .month = c.month, .used = c.used});
    c.dirty = false;
  }
  dirty_ = false;
  return rows;
}

void QuotaBook::restore_dirty(const std::vector<QuotaRow>& rows) {
  if (rows.empty()) return;
  std::lock_guard lock(mu_);
  dirty_ = true;
  for (const auto& row : rows) {
    auto it = counters_.find(row.account);
    if (it != counters_.end()) it->second.dirty = true;
  }
}

}  // namespace tempmail::local::detail
