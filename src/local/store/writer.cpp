// The store's writer: how a delivery becomes durable and visible.
//
// commit_batch runs on the delivering thread (commit_or_enqueue) or on the
// writer thread (everything queued at once: group commit), always under
// write_mu_. Its steps run in an order that each step relies on:
//   1. plan_batch: each delivery's copies, one per live mailbox it reaches,
//      with their ids and seqs (next_seq_ moves on here, before the journal
//      mark that keeps it is written);
//   2. journal_batch: one pwritev of the batch's journal records (fsync'ed
//      with StoreOptions::fsync); from here on the messages are acknowledged
//      and their rows wait in unapplied_;
//   3. publish: the new messages join the in-memory index (only after the
//      journal, so nothing is listed that a crash could lose);
//   4. flush_lazy_state: waiting rows (with the journal mark and next_seq),
//      seen flags and quota counters in one transaction, whose failure loses
//      nothing acknowledged;
// then, with write_mu_ released: acknowledge (the `done` callbacks: a 250
// means "in the journal, listed"), wake the mailboxes' watchers, hand the
// fields to the parser thread, and nudge the writer to write the rows
// journal_apply_after from now (or at once when enough wait).
#include <sqlite3.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "common/random.hpp"
#include "local/store/journal.hpp"
#include "local/store/sqlite.hpp"
#include "local/store/store.hpp"
#include "local/store/unix_time.hpp"
#include "local/store/write_tx.hpp"

namespace tempmail::local::detail {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_seconds;

constexpr std::size_t kMessageIdLength = 46;
// How often the writer deletes expired mailboxes and flushes lazy state
// (seen flags, quota counters) when no delivery wakes it earlier.
constexpr auto kIdleFlush = 1s;
constexpr auto kPurgeInterval = 10s;

}  // namespace

// --- the queue -----------------------------------------------------------------

void Store::commit_or_enqueue(PendingDelivery delivery) {
  // An fsync would block the caller (an I/O thread) for milliseconds: leave
  // those commits to the writer, where they also batch.
  if (options_.fsync && !options_.db_path.empty()) return enqueue(std::move(delivery));
  std::unique_lock write(write_mu_, std::try_to_lock);
  if (!write.owns_lock()) return enqueue(std::move(delivery));  // a commit is running
  {
    std::lock_guard q(queue_mu_);
    if (stopping_) {
      write.unlock();
      delivery.done(std::make_error_code(std::errc::operation_canceled), {});
      return;
    }
  }
  std::vector<PendingDelivery> batch;
  batch.push_back(std::move(delivery));
  std::vector<std::int64_t> no_seen;
  commit_batch(batch, no_seen, false, false, std::move(write));
}

void Store::enqueue(PendingDelivery delivery) {
  {
    std::lock_guard q(queue_mu_);
    if (!stopping_) {
      queue_.push_back(std::move(delivery));
      queue_cv_.notify_one();
      return;
    }
  }
  delivery.done(std::make_error_code(std::errc::operation_canceled), {});
}

// --- the writer thread -----------------------------------------------------------

void Store::writer_loop() {
  auto last_purge = std::chrono::steady_clock::now();
  int last_checkpointed_pages = 0;
  while (true) {
    WriterWork work = take_work();
    const bool flush_quota = quota_book_.dirty();
    const bool apply_rows = work.apply_rows && unapplied_count_.load(std::memory_order_relaxed) > 0;
    if (!work.batch.empty() || !work.seen.empty() || flush_quota || apply_rows)
      commit_batch(work.batch, work.seen, flush_quota, apply_rows, std::unique_lock(write_mu_));
    if (work.stop) break;
    // Also when idle, so a quiet server's WAL is folded into the database.
    const int pages = wal_pages_.load(std::memory_order_relaxed);
    if (work.checkpoint || (work.idle && pages > 0 && pages != last_checkpointed_pages)) {
      checkpoint();
      last_checkpointed_pages = pages;
    }
    if (std::chrono::steady_clock::now() - last_purge >= kPurgeInterval) {
      purge_and_collect();
      last_purge = std::chrono::steady_clock::now();
    }
  }
}

// Waits for work: deliveries, seen flags, a checkpoint, rows to write, or
// the idle flush.
Store::WriterWork Store::take_work() {
  // Rows waiting for SQLite wake the writer after journal_apply_after.
  const bool rows_waiting = unapplied_count_.load(std::memory_order_relaxed) > 0;
  const auto wait =
      rows_waiting
          ? std::chrono::duration_cast<std::chrono::milliseconds>(options_.journal_apply_after)
          : std::chrono::duration_cast<std::chrono::milliseconds>(kIdleFlush);
  WriterWork work;
  std::unique_lock q(queue_mu_);
  const bool timed_out = !queue_cv_.wait_for(q, wait, [&] {
    return stopping_ || !queue_.empty() || checkpoint_due_ || apply_due_ || rows_arrived_;
  });
  rows_arrived_ = false;  // the next wait is journal_apply_after long
  work.idle = timed_out && !rows_waiting;
  work.batch.swap(queue_);
  work.seen.swap(seen_queue_);
  work.stop = stopping_;
  work.apply_rows = apply_due_ || (timed_out && rows_waiting) || work.stop || rows_overdue();
  apply_due_ = false;
  work.checkpoint = checkpoint_due_;
  checkpoint_due_ = false;
  return work;
}

// --- commit_batch and its steps ------------------------------------------------------

void Store::commit_batch(std::vector<PendingDelivery>& batch, std::vector<std::int64_t>& seen_seqs,
                         bool flush_quota, bool apply_rows, std::unique_lock<std::mutex> write) {
  BatchPlan plan;
  std::error_code error;
  bool first_rows = false;  // rows wait for SQLite now, and none did before
  try {
    if (!db_) throw std::runtime_error("the database is closed");
    plan = plan_batch(batch, now());
    first_rows = journal_batch(batch, plan);
  } catch (const std::exception& e) {
    if (options_.log) options_.log(std::string("storing messages failed: ") + e.what());
    error = std::make_error_code(std::errc::io_error);
    plan.added.clear();
  }
  if (!error) publish(plan.added);
  flush_lazy_state(seen_seqs, flush_quota, apply_rows);
  write.unlock();
  if (plan.ids.size() != batch.size()) plan.ids.resize(batch.size());
  acknowledge(batch, plan.ids, error);
  std::vector<std::int64_t> touched;
  for (const auto& a : plan.added) touched.push_back(a.mailbox);
  watchers_.wake(touched);
  parse_acknowledged(batch, plan.ids);
  nudge_writer_for_rows(first_rows);
}

// Each delivery's messages, one per live mailbox it reaches. Only the writer
// and API mutations (both under write_mu_) change the mailbox maps, so
// reading them here without mu_ is race-free.
Store::BatchPlan Store::plan_batch(const std::vector<PendingDelivery>& batch, sys_seconds now) {
  BatchPlan plan;
  plan.entries.resize(batch.size());
  plan.ids.resize(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    JournalEntry& entry = plan.entries[i];
    entry.received_at = to_unix(now);
    if (batch[i].envelope) entry.envelope = *batch[i].envelope;
    for (const auto& rcpt : batch[i].recipients) {
      auto a = by_address_.find(rcpt);
      if (a == by_address_.end()) continue;
      const MailboxRecord& r = by_id_.at(a->second)->record;
      if (r.expire_at <= now) continue;
      auto m = std::make_shared<StoredMessage>();
      do {
        m->id = tempmail::detail::random_alnum(kMessageIdLength);
      } while (message_mailbox_.contains(m->id));
      m->seq = next_seq_++;
      m->to = rcpt;
      m->received_at = now;
      m->lazy_fields = batch[i].fields;
      m->envelope = batch[i].envelope;
      plan.ids[i].push_back(m->id);
      entry.copies.push_back(JournalCopy{.seq = m->seq,
                                         .mailbox = r.id,
                                         .id = m->id,
                                         .to = m->to,
                                         .box = JournalMailbox{.account = r.account,
                                                               .address = r.address,
                                                               .domain = r.domain,
                                                               .created_at = to_unix(r.created_at),
                                                               .expire_at = to_unix(r.expire_at),
                                                               .token = r.token}});
      plan.added.push_back(BatchPlan::Added{r.id, MessageView{std::move(m), false}});
    }
  }
  return plan;
}

// With a file, a delivery is durable once its journal record is written; its
// rows reach SQLite later (journal.hpp says why). Without one, nothing
// outlives the process and no query reads messages back from SQLite (reads
// come from the index).
bool Store::journal_batch(const std::vector<PendingDelivery>& batch, const BatchPlan& plan) {
  if (!raw_log_) return false;
  const bool had_rows = !unapplied_.empty();
  journal_locked(batch, plan.entries);
  return !had_rows && !unapplied_.empty();
}

void Store::publish(std::vector<BatchPlan::Added>& added) {
  if (added.empty()) return;
  std::unique_lock lock(mu_);
  for (auto& a : added) {
    message_mailbox_[a.view.message->id] = a.mailbox;
    by_id_.at(a.mailbox)->messages.push_back(std::move(a.view));
  }
}

// Rows waiting for SQLite, seen flags and quota counters: one transaction,
// whose failure loses nothing acknowledged (the journal keeps the rows, and
// they are retried with the next transaction; the quota counters are marked
// dirty again).
void Store::flush_lazy_state(const std::vector<std::int64_t>& seen_seqs, bool flush_quota,
                             bool apply_rows) {
  const bool file = !options_.db_path.empty();
  if (!db_ || !((apply_rows && !unapplied_.empty()) || (file && !seen_seqs.empty()) || flush_quota))
    return;
  std::vector<QuotaRow> quota_rows;
  try {
    WriteTx tx(*this);
    if (file)
      for (const auto seq : seen_seqs)
        statement("UPDATE messages SET seen = 1 WHERE seq = ?").bind(1, seq).run();
    if (flush_quota) quota_rows = quota_book_.take_dirty();
    write_quota_rows(quota_rows);
    tx.commit();
  } catch (const std::exception& e) {
    if (options_.log) options_.log(std::string("writing to the database failed: ") + e.what());
    quota_book_.restore_dirty(quota_rows);
  }
}

void Store::write_quota_rows(const std::vector<QuotaRow>& rows) {
  for (const auto& row : rows)
    statement(
        "INSERT INTO quota(account, month, used) VALUES(?, ?, ?) "
        "ON CONFLICT(account, month) DO UPDATE SET used = excluded.used")
        .bind(1, row.account)
        .bind(2, row.month)
        .bind(3, row.used)
        .run();
}

void Store::acknowledge(std::vector<PendingDelivery>& batch,
                        std::vector<std::vector<std::string>>& ids, std::error_code error) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (error) ids[i].clear();
    batch[i].done(error, ids[i]);
  }
}

// The fields of every delivery that reached a mailbox go to the parser thread.
void Store::parse_acknowledged(std::vector<PendingDelivery>& batch,
                               const std::vector<std::vector<std::string>>& ids) {
  std::vector<std::shared_ptr<const LazyFields>> to_parse;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!ids[i].empty()) to_parse.push_back(std::move(batch[i].fields));
  parser_thread_.later(std::move(to_parse));
}

// The writer writes the rows journal_apply_after from now (it may be in a
// longer idle wait), or at once when enough wait.
void Store::nudge_writer_for_rows(bool first_rows) {
  const bool enough =
      unapplied_count_.load(std::memory_order_relaxed) >= options_.journal_apply_rows;
  if (!first_rows && !enough) return;
  std::lock_guard q(queue_mu_);
  if (enough && !apply_due_) {
    apply_due_ = true;
    queue_cv_.notify_one();
  } else if (first_rows && !rows_arrived_) {
    rows_arrived_ = true;
    queue_cv_.notify_one();
  }
}

// --- the journal -------------------------------------------------------------

// Appends one journal record per delivery that reaches a mailbox (one
// pwritev for the batch), flushed first with fsync; the messages' rows then
// wait in unapplied_ for a transaction. Throws when the bytes cannot all be
// written: then nothing of the batch is acknowledged.
void Store::journal_locked(const std::vector<PendingDelivery>& batch,
                           const std::vector<JournalEntry>& entries) {
  std::vector<std::string> headers;
  std::vector<std::uint64_t> sums;
  std::vector<std::shared_ptr<const std::string>> envelopes;
  std::vector<std::string_view> parts;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (entries[i].copies.empty()) continue;
    const std::string& raw = *batch[i].raw;
    sums.push_back(journal_checksum(raw));  // once per delivery, however many copies
    envelopes.push_back(std::make_shared<const std::string>(encode_envelope(entries[i].envelope)));
    headers.push_back(encode_journal_header(entries[i], raw.size(), sums.back()));
    which.push_back(i);
  }
  if (which.empty()) return;
  for (std::size_t k = 0; k < which.size(); ++k) {
    parts.emplace_back(headers[k]);
    parts.emplace_back(*batch[which[k]].raw);
  }
  const auto refs = raw_log_->append(parts);
  if (options_.fsync) raw_log_->sync();
  for (std::size_t k = 0; k < which.size(); ++k) {
    const RawRef& raw = refs[2 * k + 1];
    for (const auto& copy : entries[which[k]].copies)
      unapplied_.push_back(UnappliedRow{.seq = copy.seq,
                                        .mailbox = copy.mailbox,
                                        .id = copy.id,
                                        .to = copy.to,
                                        .received_at = entries[which[k]].received_at,
                                        .raw = raw,
                                        .raw_checksum = sums[k],
                                        .envelope = envelopes[k]});
  }
  const RawRef& last = refs.back();
  journal_end_ = RawRef{.segment = last.segment, .offset = last.offset + last.length, .length = 0};
  if (unapplied_count_.load(std::memory_order_relaxed) == 0)
    unapplied_since_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                           std::memory_order_relaxed);
  unapplied_count_.store(unapplied_.size(), std::memory_order_relaxed);
}

// True when rows have waited journal_apply_after: under a steady trickle of
// queued deliveries the writer's wait never times out.
bool Store::rows_overdue() const {
  if (unapplied_count_.load(std::memory_order_relaxed) == 0) return false;
  const auto since = std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(unapplied_since_.load(std::memory_order_relaxed)));
  return std::chrono::steady_clock::now() - since >= options_.journal_apply_after;
}

std::size_t Store::apply_unapplied_locked() {
  if (unapplied_.empty()) return 0;
  for (const auto& row : unapplied_)
    insert_message_row(row.seq, row.id, row.mailbox, row.to, row.received_at, row.raw,
                       row.raw_checksum, *row.envelope);
  write_journal_mark_locked();
  return unapplied_.size();
}

bool Store::insert_message_row(std::int64_t seq, std::string_view id, std::int64_t mailbox,
                               std::string_view to, std::int64_t received_at, const RawRef& raw,
                               std::optional<std::uint64_t> raw_checksum,
                               std::string_view envelope) {
  auto& insert = statement(
      "INSERT OR IGNORE INTO messages(seq, id, mailbox, to_address, received_at, raw_segment, "
      "raw_offset, raw_length, raw_checksum, envelope) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, seq)
      .bind(2, id)
      .bind(3, mailbox)
      .bind(4, to)
      .bind(5, received_at)
      .bind(6, raw.segment)
      .bind(7, raw.offset)
      .bind(8, raw.length);
  if (raw_checksum)
    insert.bind(9, static_cast<std::int64_t>(*raw_checksum));
  else
    insert.bind_null(9);
  if (envelope.empty())
    insert.bind_null(10);
  else
    insert.bind_blob(10, envelope);
  insert.run();
  return sqlite3_changes(db_->handle()) > 0;
}

void Store::forget_applied(std::size_t rows) {
  unapplied_.erase(unapplied_.begin(), unapplied_.begin() + static_cast<std::ptrdiff_t>(rows));
  unapplied_count_.store(unapplied_.size(), std::memory_order_relaxed);
}

void Store::write_journal_mark_locked() {
  statement(
      "INSERT OR REPLACE INTO journal(rowid, mark_segment, mark_offset, next_seq) "
      "VALUES(1, ?, ?, ?)")
      .bind(1, journal_end_.segment)
      .bind(2, journal_end_.offset)
      .bind(3, next_seq_)
      .run();
}

}  // namespace tempmail::local::detail
