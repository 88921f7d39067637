// Store upkeep on the writer thread, off the commit path: WAL checkpoints
// through a second connection, deleting raw log segments no row refers to,
// and the periodic purge of expired mailboxes.
#include <sqlite3.h>

#include <set>
#include <string>

#include "local/store/sqlite.hpp"
#include "local/store/store.hpp"
#include "local/store/write_tx.hpp"

namespace tempmail::local::detail {

// Deletes the raw log's segments that the database knows and no message
// refers to any more (their messages were all deleted or expired). A
// segment it does not know is never deleted (recovery reads those).
void Store::collect_raw_segments() {
  if (!raw_log_) return;
  std::lock_guard write(write_mu_);
  // A scan of the messages table: only after something was deleted.
  if (!raw_collect_due_ || !db_) return;
  raw_collect_due_ = false;
  WriteTx tx(*this);  // rows not yet written refer to segments too
  std::set<std::int64_t> dead;
  auto& known = statement(
      "SELECT segment FROM raw_segments WHERE segment NOT IN "
      "(SELECT raw_segment FROM messages WHERE raw_segment IS NOT NULL)");
  while (known.step()) dead.insert(known.column_int(0));
  known.reset();
  dead.erase(raw_log_->active_segment());
  raw_log_->collect(dead);
  // Rows of files already gone (a crash after the unlink) go too.
  for (const auto segment : dead)
    statement("DELETE FROM raw_segments WHERE segment = ?").bind(1, segment).run();
  tx.commit();
}

void Store::register_segment(std::int64_t segment) {
  statement("INSERT OR IGNORE INTO raw_segments(segment) VALUES(?)").bind(1, segment).run();
}

int Store::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  auto* store = static_cast<Store*>(self);
  store->wal_pages_.store(pages, std::memory_order_relaxed);
  if (pages >= store->next_checkpoint_.load(std::memory_order_relaxed)) {
    std::lock_guard q(store->queue_mu_);
    if (!store->checkpoint_due_) {
      store->checkpoint_due_ = true;
      store->queue_cv_.notify_one();
    }
  }
  return SQLITE_OK;
}

// On the writer thread, every kCheckpointPages of WAL growth (or when idle).
// PASSIVE, through the second connection, copies pages beside the commits;
// but the WAL restarts from its start only after a checkpoint that nothing
// committed during, so under steady load a RESTART checkpoint holding commits
// off bounds it. Rare checkpoints are cheaper: each copies a page once however
// many commits rewrote it (an index page is rewritten by nearly every commit).
void Store::checkpoint() {
  if (!checkpoint_db_) return;
  const int pages = wal_pages_.load(std::memory_order_relaxed);
  int rc = SQLITE_OK;
  if (pages >= kForceCheckpointPages) {
    std::lock_guard write(write_mu_);
    if (!db_) return;
    rc = sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_RESTART, nullptr,
                                   nullptr);
    next_checkpoint_.store(kCheckpointPages, std::memory_order_relaxed);
  } else {
    rc = sqlite3_wal_checkpoint_v2(checkpoint_db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                   nullptr, nullptr);
    next_checkpoint_.store(pages + kCheckpointPages, std::memory_order_relaxed);
  }
  if (rc != SQLITE_OK && rc != SQLITE_BUSY && options_.log)
    options_.log(std::string("checkpointing the database failed: ") + sqlite3_errstr(rc));
}

void Store::purge_and_collect() noexcept {
  try {
    purge_expired();
    collect_raw_segments();
  } catch (const std::exception& e) {
    if (options_.log) options_.log(std::string("purging expired mailboxes failed: ") + e.what());
  }
}

}  // namespace tempmail::local::detail
