// The local server's mailboxes, messages and quota counters.
//
// Reads are served from an in-memory index; SQLite is the durable store.
// Rationale: the list endpoint is the hot path (the API benchmark targets 5x
// MailDev's requests/s with 1,000 messages in a mailbox). Serving it from
// memory under a shared lock costs one hash lookup and a vector copy of
// shared pointers, with no SQL, no row decoding and no page cache misses; the
// database is read once, at start-up, to rebuild the index. A message's raw
// text is appended once to the raw log (raw_log.hpp) beside the database and
// its row points there (schema v2); what the API shows of it is parsed again
// on load, so a message's bytes are written once per delivery. Every change is
// durable *before* it becomes visible in memory, so what a client has seen
// survives a crash (except `seen` flags and quota counters, which are flushed
// lazily: losing one on kill -9 is harmless).
//
// Writes: MailSink::deliver does not parse MIME (message.hpp says why). With
// a file, a delivery is durable once its journal record (journal.hpp) is
// appended to the raw log; its rows are written to SQLite later, in batches
// (StoreOptions::journal_apply_*), first in any other transaction (WriteTx),
// and from the records past the journal mark after a crash. When no other
// write is running and writes do not fsync, deliver() journals the message at
// once on the caller's thread (no thread hop: one SMTP connection sending
// message after message waits for nothing else). Otherwise it queues the
// message, and ONE writer thread takes everything queued and journals it with
// one write (group commit; with StoreOptions::fsync, flushed to disk first).
// Either way the store then applies it to memory, calls every `done`
// callback, wakes the mailboxes' watchers (the long-poll) and hands the new
// messages to the parser thread, which parses their fields unless a reader
// has already done so.
// API mutations (create/switch/delete) run on the caller's thread in their
// own transaction; `write_mu_` serialises every transaction.
//
// Thread safety: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "local/mail_sink.hpp"
#include "local/store/db_files.hpp"
#include "local/store/journal.hpp"
#include "local/store/message.hpp"
#include "local/store/parser_thread.hpp"
#include "local/store/quota.hpp"
#include "local/store/raw_log.hpp"
#include "local/store/watchers.hpp"
#include "tempmail/local/server.hpp"

struct sqlite3;

namespace tempmail::local::detail {

class Database;
class Statement;

using Clock = std::function<std::chrono::sys_seconds()>;

struct StoreOptions {
  std::filesystem::path db_path{};  ///< empty: in memory
  std::vector<DomainConfig> domains{DomainConfig{}};
  std::chrono::seconds mailbox_ttl{600};
  std::int64_t monthly_quota = 50000;
  /// Raw RFC 5322 -> fields; the server passes tempmail::detail::parse_message.
  Parser parse;
  /// Wall clock (UTC); tests inject their own. Empty: system_clock.
  Clock clock{};
  /// Where the store reports failures it cannot return (the writer's); never given secrets.
  std::function<void(std::string_view)> log{};
  /// With a file: flush each batch's journal records to disk (fdatasync)
  /// before calling `done`, and every SQLite commit (synchronous=FULL), so
  /// acknowledged messages survive power loss too, at one disk flush per
  /// batch. Without it a record is written to the OS before `done`, so it
  /// survives kill -9 and server crashes (SQLite: synchronous=NORMAL in WAL
  /// mode, flushed to disk at checkpoints).
  bool fsync = false;
  /// With a file: the raw log starts a new segment file past this size.
  std::uint64_t raw_segment_bytes = RawLog::kDefaultSegmentBytes;
  /// With a file: acknowledged messages' rows are written to SQLite in
  /// batches, by the writer, once this many wait or the oldest has waited
  /// journal_apply_after (and before any other change to the database).
  /// Until then the raw log's journal records hold them (journal.hpp).
  std::size_t journal_apply_rows = 256;
  std::chrono::milliseconds journal_apply_after{50};
};

struct MailboxRecord {
  std::int64_t id = 0;
  std::string account;
  std::string address;  ///< lower case
  std::string domain;
  std::chrono::sys_seconds created_at{};
  std::chrono::sys_seconds expire_at{};
  std::string token;

  bool operator==(const MailboxRecord&) const = default;
};

enum class Status { kOk, kNotFound, kConflict, kInvalid, kForbidden, kUnavailable };

/// A value or the reason there is none. `reason` is safe to show to the client.
template <class T>
struct Outcome {
  Status status = Status::kOk;
  T value{};
  std::string reason{};

  [[nodiscard]] bool ok() const { return status == Status::kOk; }
};

struct MailboxMessages {
  std::string mailbox;                ///< the address
  std::vector<MessageView> messages;  ///< oldest first (commit order)
};

struct AttachmentView {
  std::shared_ptr<const StoredMessage> message;
  std::size_t index = 0;
  [[nodiscard]] const StoredAttachment& attachment() const {
    return message->fields().attachments[index];
  }
};

struct StoreStats {
  std::size_t mailboxes = 0;
  std::size_t messages = 0;
  std::size_t queued = 0;     ///< deliveries waiting for the writer
  std::size_t watchers = 0;   ///< long-polls waiting for a commit
  std::size_t unapplied = 0;  ///< acknowledged messages whose rows are not in SQLite yet
};

class Store final : public MailSink {
 public:
  /// Opens (or creates) the database, migrates the schema and loads the index.
  /// Throws std::runtime_error when the database cannot be opened or is newer
  /// than this program, std::invalid_argument for bad options.
  explicit Store(StoreOptions options);
  ~Store() override;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  [[nodiscard]] std::chrono::sys_seconds now() const;
  [[nodiscard]] const std::vector<DomainConfig>& domains() const { return options_.domains; }
  [[nodiscard]] std::chrono::seconds mailbox_ttl() const { return options_.mailbox_ttl; }

  // --- the API's operations; `account` identifies the caller's key ---------
  /// A random, unguessable address at the first domain of an allowed type.
  Outcome<MailboxRecord> create_mailbox(std::string_view account);
  /// Moves `current` (owned by `account`) to username@domain with a new id.
  /// Its messages follow it; the old address is released. kConflict when the
  /// address is taken, kInvalid for a bad username or unknown domain.
  Outcome<MailboxRecord> switch_mailbox(std::string_view account, std::string_view current,
                                        std::string_view username, std::string_view domain);
  Status delete_mailbox(std::string_view account, std::string_view address);
  Outcome<MailboxMessages> list_messages(std::string_view account, std::string_view address);
  /// Messages of the mailbox committed after `after_seq` (0: all).
  Outcome<MailboxMessages> messages_after(std::string_view account, std::string_view address,
                                          std::int64_t after_seq);
  /// Returns the message and marks it seen.
  Outcome<MessageView> read_message(std::string_view account, std::string_view id);
  /// The message's seq (for the long-poll's `after`), without marking it seen.
  Outcome<std::int64_t> message_seq(std::string_view account, std::string_view id);
  Status delete_message(std::string_view account, std::string_view id);
  Outcome<AttachmentView> attachment(std::string_view account, std::string_view id,
                                     std::string_view name);
  /// Stores `raw` in the account's mailbox `address` through the same path as
  /// SMTP delivery and waits for the commit; returns the new message's id.
  Outcome<std::string> inject(std::string_view account, std::string_view address, std::string raw);

  // --- quota: per account per calendar month (UTC) ------------------------
  [[nodiscard]] QuotaState quota(std::string_view account);
  /// Counts one successful call and returns the state after it.
  QuotaState count_call(std::string_view account);

  // --- MailSink (SMTP) ------------------------------------------------------
  bool accepts_recipient(std::string_view address) override;
  void deliver(std::shared_ptr<const std::string> raw, Envelope envelope,
               std::function<void(std::error_code)> done) override;
  /// What the SMTP session said about the message (or that it was injected).
  /// kNotFound for another key's message, and for one stored before
  /// envelopes were kept.
  Outcome<std::shared_ptr<const Envelope>> envelope(std::string_view account, std::string_view id);

  // --- long-poll hook -------------------------------------------------------
  using WatchId = WatchList::WatchId;
  /// Calls `wake` once (from the writer thread, or from `unwatch`/`stop`
  /// never) after the next commit that adds a message to, or removes, the
  /// mailbox `address`. `wake` must not block. Returns 0 when the mailbox is
  /// not the account's live mailbox (nothing will be called).
  WatchId watch(std::string_view account, std::string_view address, std::function<void()> wake);
  /// Forgets a watcher that has not fired; harmless when it has.
  void unwatch(WatchId id);

  /// Deletes every expired mailbox now (the writer also does it periodically).
  void purge_expired();
  [[nodiscard]] StoreStats stats() const;
  /// Where a file database keeps its messages' raw texts: the directory
  /// DB_PATH-raw beside it (like SQLite's DB_PATH-wal).
  static std::filesystem::path raw_log_directory(const std::filesystem::path& db_path);
  /// Commits everything queued, fails later deliveries, closes the database.
  /// Idempotent; the destructor calls it.
  void stop() noexcept;

 private:
  struct MailboxState {
    MailboxRecord record;
    std::vector<MessageView> messages;  // commit order
  };
  struct PendingDelivery {
    std::shared_ptr<const std::string> raw;
    std::shared_ptr<const LazyFields> fields;  // parsed after the commit
    std::shared_ptr<const Envelope> envelope;
    std::vector<std::string> recipients;  // lower case
    std::function<void(std::error_code, const std::vector<std::string>& ids)> done;
  };
  // An acknowledged message whose row is only in the journal so far.
  struct UnappliedRow {
    std::int64_t seq = 0;
    std::int64_t mailbox = 0;
    std::string id;
    std::string to;
    std::int64_t received_at = 0;
    RawRef raw;
    std::uint64_t raw_checksum = 0;
    std::shared_ptr<const std::string> envelope;  // encoded (journal.hpp)
  };
  // What a batch becomes before anything is written: one journal entry per
  // delivery, the messages to add to the index, and each delivery's ids.
  struct BatchPlan {
    struct Added {
      std::int64_t mailbox;
      MessageView view;
    };
    std::vector<JournalEntry> entries;
    std::vector<Added> added;
    std::vector<std::vector<std::string>> ids;
  };
  // What the writer takes from its queue at one wake-up.
  struct WriterWork {
    std::vector<PendingDelivery> batch;
    std::vector<std::int64_t> seen;
    bool stop = false;
    bool idle = false;  // the wait timed out with nothing to do
    bool apply_rows = false;
    bool checkpoint = false;
  };
  // What recovery made of the records it read.
  struct Recovery {
    std::size_t restored = 0;    // rows written
    std::size_t mailboxes = 0;   // mailbox rows written
    std::size_t unrestored = 0;  // copies whose rows could not be written
    Recovery& operator+=(const Recovery& r);
  };
  class WriteTx;

  // --- opening (store.cpp) --------------------------------------------------
  static StoreOptions validated(StoreOptions options);
  void open_database();
  void open_file_database();  // WAL mode, the checkpoint connection, the raw log

  // --- recovery (recovery.cpp): migrate, replay the raw log, load ----------
  // Returns the version the file had before (0: a new database).
  int migrate();
  void recover_from_raw_log(int previous_version);
  Recovery restore_segment(std::int64_t segment, std::int64_t from);
  Recovery restore_copy(const JournalCopy& copy, const ScannedRecord& record, std::int64_t segment,
                        std::uint64_t start);
  void log_damage(std::int64_t segment, std::uint64_t start, const JournalScan& scan);
  void load();
  void load_mailboxes();
  void load_messages();
  // A loaded row's fields, parsed from its raw text; throws what damaged it.
  MessageFields parse_loaded_text(Statement& row) const;
  void load_quota();

  // --- checkpoints and segment clean-up (maintenance.cpp) -------------------
  // SQLite's WAL hook: counts the WAL's pages, asks the writer to checkpoint.
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);
  void checkpoint();
  void collect_raw_segments();
  void register_segment(std::int64_t segment);
  // The writer's periodic purge of expired mailboxes and their segments.
  void purge_and_collect() noexcept;

  // --- the writer (writer.cpp) ----------------------------------------------
  // Commits `delivery` now when that cannot block on a disk flush or on
  // another commit; else queues it for the writer.
  void commit_or_enqueue(PendingDelivery delivery);
  void enqueue(PendingDelivery delivery);
  void writer_loop();
  WriterWork take_work();
  // `write` holds write_mu_; released before the callbacks run. The steps,
  // in this order: plan, journal, publish, flush, then (unlocked) acknowledge,
  // wake watchers, hand to the parser, nudge the writer.
  void commit_batch(std::vector<PendingDelivery>& batch, std::vector<std::int64_t>& seen_seqs,
                    bool flush_quota, bool apply_rows, std::unique_lock<std::mutex> write);
  BatchPlan plan_batch(const std::vector<PendingDelivery>& batch, std::chrono::sys_seconds now);
  // Journals the planned copies; true when rows now wait and none did before.
  bool journal_batch(const std::vector<PendingDelivery>& batch, const BatchPlan& plan);
  void publish(std::vector<BatchPlan::Added>& added);
  // Waiting rows, seen flags and quota counters in one transaction.
  void flush_lazy_state(const std::vector<std::int64_t>& seen_seqs, bool flush_quota,
                        bool apply_rows);
  void write_quota_rows(const std::vector<QuotaRow>& rows);
  static void acknowledge(std::vector<PendingDelivery>& batch,
                          std::vector<std::vector<std::string>>& ids, std::error_code error);
  void parse_acknowledged(std::vector<PendingDelivery>& batch,
                          const std::vector<std::vector<std::string>>& ids);
  void nudge_writer_for_rows(bool first_rows);
  // Under write_mu_: the journal (a file database's durable record of deliveries).
  void journal_locked(const std::vector<PendingDelivery>& batch,
                      const std::vector<JournalEntry>& entries);
  std::size_t apply_unapplied_locked();  // inside a transaction; returns the rows written
  // Inside a transaction: a message's row, unless one with its seq exists;
  // true when it was written.
  bool insert_message_row(std::int64_t seq, std::string_view id, std::int64_t mailbox,
                          std::string_view to, std::int64_t received_at, const RawRef& raw,
                          std::optional<std::uint64_t> raw_checksum, std::string_view envelope);
  void forget_applied(std::size_t rows);  // after that transaction committed
  void write_journal_mark_locked();
  [[nodiscard]] bool rows_overdue() const;

  // --- the API's operations (store.cpp) -------------------------------------
  // Under write_mu_: the account's live mailbox, or nullptr.
  MailboxState* live_mailbox_locked(std::string_view account, std::string_view address,
                                    std::chrono::sys_seconds now);
  void purge_locked(std::chrono::sys_seconds now, std::vector<std::int64_t>& removed);
  void erase_mailbox_memory(std::int64_t id);
  Outcome<MailboxRecord> insert_mailbox(std::string_view account, std::string address,
                                        std::string domain, std::chrono::sys_seconds created,
                                        std::chrono::sys_seconds expires);
  Statement& statement(std::string_view sql);

  StoreOptions options_;
  QuotaBook quota_book_;
  // A file database's lock, held from before it is opened until it is closed.
  std::unique_ptr<DatabaseLock> lock_;

  // The connection and its statement cache: used only under write_mu_.
  std::mutex write_mu_;
  std::unique_ptr<Database> db_;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> statements_;
  // A file database's raw message texts (under write_mu_), and whether rows
  // were deleted since its unreferenced segments were last collected.
  std::unique_ptr<RawLog> raw_log_;
  bool raw_collect_due_ = true;
  // Rows of acknowledged deliveries not yet in SQLite (under write_mu_), how
  // many (read anywhere), and where the journal ends: the mark written with them.
  std::vector<UnappliedRow> unapplied_;
  std::atomic<std::size_t> unapplied_count_{0};
  std::atomic<std::chrono::steady_clock::rep> unapplied_since_{0};  ///< when the oldest came
  RawRef journal_end_;
  // A file database's second connection, for checkpoints (writer thread only).
  std::unique_ptr<Database> checkpoint_db_;
  static constexpr int kCheckpointPages = 8000;        // 32 MB of WAL (4 KiB pages)
  static constexpr int kForceCheckpointPages = 32000;  // 128 MB: checkpoint holding commits off
  std::atomic<int> wal_pages_{0};
  std::atomic<int> next_checkpoint_{kCheckpointPages};

  // The in-memory index: written under a unique lock (and write_mu_), read shared.
  mutable std::shared_mutex mu_;
  std::unordered_map<std::int64_t, std::shared_ptr<MailboxState>> by_id_;
  std::unordered_map<std::string, std::int64_t> by_address_;
  std::unordered_map<std::string, std::int64_t> message_mailbox_;  // message id -> mailbox id
  std::int64_t next_seq_ = 1;

  // The writer's queue.
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<PendingDelivery> queue_;
  std::vector<std::int64_t> seen_queue_;  ///< seqs of messages newly seen
  bool checkpoint_due_ = false;
  bool apply_due_ = false;     ///< journal_apply_rows rows wait for SQLite
  bool rows_arrived_ = false;  ///< rows wait for SQLite, and none did before
  bool stopping_ = false;
  std::thread writer_;

  // Fields of committed messages are parsed by this thread (or their first reader).
  std::shared_ptr<const FieldParser> parser_;
  ParserThread parser_thread_;

  WatchList watchers_;
};

}  // namespace tempmail::local::detail
