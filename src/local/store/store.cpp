#include "local/store/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <iostream>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include "common/ascii.hpp"
#include "common/random.hpp"
#include "common/time.hpp"
#include "local/store/journal.hpp"
#include "local/store/schema.hpp"
#include "local/store/sqlite.hpp"

namespace tempmail::local::detail {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_seconds;

constexpr std::string_view kLocalPartAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::size_t kLocalPartLength = 10;
constexpr std::size_t kMessageIdLength = 46;
constexpr std::size_t kTokenLength = 40;
// How often the writer deletes expired mailboxes and flushes lazy state
// (seen flags, quota counters) when no delivery wakes it earlier.
constexpr auto kIdleFlush = 1s;
constexpr auto kPurgeInterval = 10s;
// How long the parser thread lets committed messages gather before parsing them.
constexpr auto kParseGather = 2ms;

std::string lower(std::string_view s) { return tempmail::detail::to_ascii_lower(s); }

bool valid_username(std::string_view u) {
  if (u.empty() || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

std::int64_t to_unix(sys_seconds t) { return t.time_since_epoch().count(); }
sys_seconds from_unix(std::int64_t s) { return sys_seconds{std::chrono::seconds{s}}; }

template <class T>
Outcome<T> fail(Status status, std::string reason) {
  return Outcome<T>{.status = status, .value = T{}, .reason = std::move(reason)};
}

std::string not_found_mailbox(std::string_view address) {
  return "No mailbox " + std::string(address) +
         " for this API key (never created, deleted, or expired): create one with POST /api/emails";
}

std::string not_found_message(std::string_view id) {
  return "No message " + std::string(id) +
         " for this API key (deleted, or its mailbox expired): list the mailbox's messages with "
         "GET /api/messages?email=ADDRESS";
}

}  // namespace

// A transaction under write_mu_ that first writes the rows of acknowledged
// deliveries not yet in SQLite, so that whatever it changes (a deleted
// message, a moved mailbox, a seen flag) finds them; they count as written
// only once it commits.
class Store::WriteTx {
 public:
  explicit WriteTx(Store& store)
      : store_(store), tx_(*store.db_), applied_(store.apply_unapplied_locked()) {}
  void commit() {
    tx_.commit();
    store_.forget_applied(applied_);
  }

 private:
  Store& store_;
  Transaction tx_;
  std::size_t applied_;
};

Store::Store(StoreOptions options) : options_(std::move(options)) {
  if (options_.domains.empty())
    throw std::invalid_argument("StoreOptions::domains is empty: configure at least one domain");
  for (auto& d : options_.domains) {
    d.name = lower(d.name);
    d.type = lower(d.type);
    if (d.name.empty() || d.type.empty())
      throw std::invalid_argument("StoreOptions::domains has an empty domain name or type");
  }
  if (options_.mailbox_ttl <= 0s)
    throw std::invalid_argument("StoreOptions::mailbox_ttl must be positive");
  if (options_.monthly_quota < 0)
    throw std::invalid_argument("StoreOptions::monthly_quota must not be negative");
  if (!options_.parse) throw std::invalid_argument("StoreOptions::parse is not set");
  parser_ = std::make_shared<const FieldParser>(FieldParser{options_.parse, options_.log});
  if (!options_.clock)
    options_.clock = [] {
      return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    };

  if (!options_.db_path.empty()) {
    check_database_path(options_.db_path);
    lock_ = std::make_unique<DatabaseLock>(options_.db_path);
    set_aside_orphaned_wal(options_.db_path, options_.log);
  }
  db_ = std::make_unique<Database>(options_.db_path);
  db_->exec("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
  if (!options_.db_path.empty()) {
    // WAL mode. synchronous=NORMAL: a COMMIT returns once its WAL frames are
    // written to the OS, so every message acknowledged after a commit survives
    // kill -9 (bench/ checks it); the WAL reaches the disk at checkpoints.
    // synchronous=FULL (StoreOptions::fsync) also fsyncs the WAL per commit,
    // for power loss, at one disk flush (milliseconds) per commit.
    {
      auto mode = db_->prepare("PRAGMA journal_mode = WAL");  // finalized before going on
      if (!mode.step() || lower(mode.column_text(0)) != "wal")
        throw std::runtime_error("cannot switch the database '" + options_.db_path.string() +
                                 "' to WAL mode; is it on a file system that supports it?");
    }
    const char* sync =
        options_.fsync ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;";
    db_->exec(sync);
    // Checkpoints move off the committing thread: the hook (which replaces
    // SQLite's auto-checkpoint) only counts the WAL's pages, and the writer
    // checkpoints through its own connection, beside the commits. Rationale:
    // an auto-checkpoint every 1,000 pages copied pages and flushed two files
    // inside a commit, tripling the average commit time (bench/RESULTS.md).
    sqlite3_wal_hook(db_->handle(), &Store::on_wal_commit, this);
    checkpoint_db_ = std::make_unique<Database>(options_.db_path);
    checkpoint_db_->exec("PRAGMA busy_timeout = 5000;");
    checkpoint_db_->exec(sync);
    raw_log_ =
        std::make_unique<RawLog>(raw_log_directory(options_.db_path), options_.raw_segment_bytes);
    // Named in the database before anything is written to it (schema v4).
    raw_log_->on_new_segment([this](std::int64_t segment) { register_segment(segment); });
  }
  recover_from_raw_log(migrate());
  load();
  purge_expired();
  collect_raw_segments();
  writer_ = std::thread([this] { writer_loop(); });
  parse_thread_ = std::thread([this] { parser_loop(); });
}

Store::~Store() { stop(); }

std::filesystem::path Store::raw_log_directory(const std::filesystem::path& db_path) {
  return std::filesystem::path(db_path.string() + "-raw");
}

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

sys_seconds Store::now() const { return options_.clock(); }

std::string Store::month_of(sys_seconds t) {
  std::string s = tempmail::detail::format_iso8601(t);  // "YYYY-MM-DDT..."
  return s.substr(0, 7);
}

Statement& Store::statement(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end())
    it =
        statements_.emplace(std::string(sql), std::make_unique<Statement>(db_->prepare(sql))).first;
  return *it->second;
}

int Store::migrate() {
  db_->exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  int version = 0;
  {
    auto q = db_->prepare("SELECT version FROM schema_version");
    if (q.step()) version = static_cast<int>(q.column_int(0));
  }
  if (version > kSchemaVersion)
    throw std::runtime_error("the database '" + options_.db_path.string() +
                             "' has schema version " + std::to_string(version) +
                             ", newer than this program's " + std::to_string(kSchemaVersion) +
                             "; use a newer tempmail-server or a new database file");
  for (int v = version; v < kSchemaVersion; ++v) {
    Transaction tx(*db_);
    db_->exec(kMigrations[static_cast<std::size_t>(v)]);
    db_->exec("DELETE FROM schema_version");
    db_->prepare("INSERT INTO schema_version(version) VALUES(?)")
        .bind(1, std::int64_t{v + 1})
        .run();
    tx.commit();
  }
  return version;
}

void Store::load() {
  auto mailboxes = db_->prepare(
      "SELECT id, account, address, domain, created_at, expire_at, token FROM mailboxes");
  while (mailboxes.step()) {
    auto state = std::make_shared<MailboxState>();
    state->record = MailboxRecord{.id = mailboxes.column_int(0),
                                  .account = mailboxes.column_text(1),
                                  .address = mailboxes.column_text(2),
                                  .domain = mailboxes.column_text(3),
                                  .created_at = from_unix(mailboxes.column_int(4)),
                                  .expire_at = from_unix(mailboxes.column_int(5)),
                                  .token = mailboxes.column_text(6)};
    by_address_[state->record.address] = state->record.id;
    by_id_[state->record.id] = std::move(state);
  }

  struct Loaded {
    std::shared_ptr<StoredMessage> message;
    std::int64_t mailbox;
    bool seen;
  };
  std::vector<Loaded> loaded;
  // Everything the raw text says is parsed from it again (schema v2): the
  // same parser that accepted the message at delivery.
  auto messages = db_->prepare(
      "SELECT id, seq, mailbox, to_address, received_at, seen, raw, raw_segment, raw_offset, "
      "raw_length, raw_segment IS NULL, raw_checksum, raw_checksum IS NULL, envelope FROM "
      "messages ORDER BY seq");
  while (messages.step()) {
    auto m = std::make_shared<StoredMessage>();
    m->id = messages.column_text(0);
    m->seq = messages.column_int(1);
    m->to = messages.column_text(3);
    m->received_at = from_unix(messages.column_int(4));
    if (auto envelope = decode_envelope(messages.column_blob(13)))
      m->envelope = std::make_shared<const Envelope>(std::move(*envelope));
    MessageFields fields;
    try {
      if (messages.column_int(10) != 0) {  // carried over from v1: the text is in the row
        fields = MessageFields::from(options_.parse(messages.column_blob(6)));
      } else {
        if (!raw_log_) throw std::runtime_error("no raw log");
        const RawRef ref{.segment = messages.column_int(7),
                         .offset = messages.column_int(8),
                         .length = messages.column_int(9)};
        const std::string raw = raw_log_->read(ref);
        if (messages.column_int(12) == 0 &&
            journal_checksum(raw) != static_cast<std::uint64_t>(messages.column_int(11)))
          throw std::runtime_error(
              "its text in '" + raw_log_->path_of(ref.segment).string() + "' (bytes " +
              std::to_string(ref.offset) + " to " + std::to_string(ref.offset + ref.length) +
              ") no longer has the checksum it was acknowledged with: the file was changed "
              "outside the server");
        fields = MessageFields::from(options_.parse(raw));
      }
    } catch (const std::exception& e) {
      // Kept (never dropped) with what the row itself says, and never served
      // as if its text were whole: the API reports it as damaged.
      fields.damage = e.what();
      if (options_.log)
        options_.log("message " + m->id + " is listed without its text: " + e.what());
    }
    m->lazy_fields = std::make_shared<const LazyFields>(std::move(fields));
    next_seq_ = std::max(next_seq_, m->seq + 1);
    loaded.push_back({std::move(m), messages.column_int(2), messages.column_int(5) != 0});
  }
  for (auto& l : loaded) {
    auto mb = by_id_.find(l.mailbox);
    if (mb == by_id_.end()) continue;
    message_mailbox_[l.message->id] = l.mailbox;
    mb->second->messages.push_back(MessageView{std::move(l.message), l.seen});
  }

  auto quota = db_->prepare("SELECT account, used FROM quota WHERE month = ?");
  const std::string month = month_of(now());
  quota.bind(1, month);
  while (quota.step())
    quota_[quota.column_text(0)] =
        QuotaCounter{.month = month, .used = quota.column_int(1), .dirty = false};
}

// --- mailboxes -------------------------------------------------------------

Store::MailboxState* Store::live_mailbox_locked(std::string_view account, std::string_view address,
                                                sys_seconds now) {
  auto a = by_address_.find(lower(address));
  if (a == by_address_.end()) return nullptr;
  auto& state = by_id_.at(a->second);
  if (state->record.account != account || state->record.expire_at <= now) return nullptr;
  return state.get();
}

Outcome<MailboxRecord> Store::insert_mailbox(std::string_view account, std::string address,
                                             std::string domain, sys_seconds created,
                                             sys_seconds expires) {
  MailboxRecord record{.id = 0,
                       .account = std::string(account),
                       .address = std::move(address),
                       .domain = std::move(domain),
                       .created_at = created,
                       .expire_at = expires,
                       .token = tempmail::detail::random_alnum(kTokenLength)};
  auto& insert = statement(
      "INSERT INTO mailboxes(account, address, domain, created_at, expire_at, token) "
      "VALUES(?, ?, ?, ?, ?, ?)");
  insert.bind(1, record.account)
      .bind(2, record.address)
      .bind(3, record.domain)
      .bind(4, to_unix(record.created_at))
      .bind(5, to_unix(record.expire_at))
      .bind(6, record.token)
      .run();
  record.id = db_->last_insert_rowid();
  return Outcome<MailboxRecord>{.status = Status::kOk, .value = std::move(record), .reason = {}};
}

Outcome<MailboxRecord> Store::create_mailbox(std::string_view account) {
  const sys_seconds now = this->now();
  const std::string domain = options_.domains.front().name;
  std::vector<std::int64_t> removed;
  Outcome<MailboxRecord> created;
  {
    std::lock_guard write(write_mu_);
    if (!db_) return fail<MailboxRecord>(Status::kUnavailable, "The server is shutting down");
    purge_locked(now, removed);
    std::string address;
    for (int attempt = 0;; ++attempt) {
      address =
          tempmail::detail::random_string(kLocalPartLength, kLocalPartAlphabet) + "@" + domain;
      if (!by_address_.contains(address)) break;
      if (attempt > 100) throw std::runtime_error("could not find a free random address");
    }
    WriteTx tx(*this);
    created = insert_mailbox(account, address, domain, now, now + options_.mailbox_ttl);
    tx.commit();
    auto state = std::make_shared<MailboxState>();
    state->record = created.value;
    std::unique_lock lock(mu_);
    by_address_[state->record.address] = state->record.id;
    by_id_[state->record.id] = std::move(state);
  }
  wake_watchers(removed);
  return created;
}

Outcome<MailboxRecord> Store::switch_mailbox(std::string_view account, std::string_view current,
                                             std::string_view username, std::string_view domain) {
  const std::string user = lower(username);
  const std::string dom = lower(domain);
  if (!valid_username(user))
    return fail<MailboxRecord>(
        Status::kInvalid, "The username '" + std::string(username) +
                              "' is invalid: use 1 to 64 characters of a-z, 0-9, '.', '_' and '-'");
  auto configured = std::find_if(options_.domains.begin(), options_.domains.end(),
                                 [&](const DomainConfig& d) { return d.name == dom; });
  if (configured == options_.domains.end()) {
    std::string names;
    for (const auto& d : options_.domains) names += (names.empty() ? "" : ", ") + d.name;
    return fail<MailboxRecord>(Status::kInvalid, "The domain '" + std::string(domain) +
                                                     "' is not one of this server's domains (" +
                                                     names + "): see GET /api/domains");
  }
  const std::string target = user + "@" + dom;
  const sys_seconds now = this->now();
  std::vector<std::int64_t> removed;
  Outcome<MailboxRecord> result;
  {
    std::lock_guard write(write_mu_);
    if (!db_) return fail<MailboxRecord>(Status::kUnavailable, "The server is shutting down");
    purge_locked(now, removed);
    MailboxState* old = live_mailbox_locked(account, current, now);
    if (old == nullptr) return fail<MailboxRecord>(Status::kNotFound, not_found_mailbox(current));
    if (old->record.address == target)
      return Outcome<MailboxRecord>{.status = Status::kOk, .value = old->record, .reason = {}};
    if (by_address_.contains(target))
      return fail<MailboxRecord>(
          Status::kConflict,
          "The address " + target + " is already taken: choose another username");
    const std::int64_t old_id = old->record.id;
    WriteTx tx(*this);
    result = insert_mailbox(account, target, dom, old->record.created_at, old->record.expire_at);
    statement("UPDATE messages SET mailbox = ? WHERE mailbox = ?")
        .bind(1, result.value.id)
        .bind(2, old_id)
        .run();
    statement("DELETE FROM mailboxes WHERE id = ?").bind(1, old_id).run();
    tx.commit();

    auto state = std::make_shared<MailboxState>();
    state->record = result.value;
    std::unique_lock lock(mu_);
    auto old_state = by_id_.at(old_id);
    state->messages = std::move(old_state->messages);
    for (const auto& m : state->messages) message_mailbox_[m.message->id] = state->record.id;
    by_address_.erase(old_state->record.address);
    by_id_.erase(old_id);
    by_address_[state->record.address] = state->record.id;
    by_id_[state->record.id] = std::move(state);
    removed.push_back(old_id);
  }
  wake_watchers(removed);
  return result;
}

Status Store::delete_mailbox(std::string_view account, std::string_view address) {
  const sys_seconds now = this->now();
  std::vector<std::int64_t> removed;
  {
    std::lock_guard write(write_mu_);
    if (!db_) return Status::kUnavailable;
    MailboxState* state = live_mailbox_locked(account, address, now);
    if (state == nullptr) return Status::kNotFound;
    const std::int64_t id = state->record.id;
    WriteTx tx(*this);
    statement("DELETE FROM mailboxes WHERE id = ?").bind(1, id).run();
    tx.commit();
    raw_collect_due_ = true;
    erase_mailbox_memory(id);
    removed.push_back(id);
  }
  wake_watchers(removed);
  return Status::kOk;
}

void Store::erase_mailbox_memory(std::int64_t id) {
  std::unique_lock lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  for (const auto& m : it->second->messages) message_mailbox_.erase(m.message->id);
  by_address_.erase(it->second->record.address);
  by_id_.erase(it);
}

void Store::purge_locked(sys_seconds now, std::vector<std::int64_t>& removed) {
  std::vector<std::int64_t> expired;
  for (const auto& [id, state] : by_id_)
    if (state->record.expire_at <= now) expired.push_back(id);
  if (expired.empty() || !db_) return;
  WriteTx tx(*this);
  for (auto id : expired) statement("DELETE FROM mailboxes WHERE id = ?").bind(1, id).run();
  tx.commit();
  raw_collect_due_ = true;
  for (auto id : expired) erase_mailbox_memory(id);
  removed.insert(removed.end(), expired.begin(), expired.end());
}

void Store::purge_expired() {
  std::vector<std::int64_t> removed;
  {
    std::lock_guard write(write_mu_);
    purge_locked(now(), removed);
  }
  wake_watchers(removed);
}

// --- messages --------------------------------------------------------------

Outcome<MailboxMessages> Store::list_messages(std::string_view account, std::string_view address) {
  return messages_after(account, address, 0);
}

Outcome<MailboxMessages> Store::messages_after(std::string_view account, std::string_view address,
                                               std::int64_t after_seq) {
  const sys_seconds now = this->now();
  const std::string key = lower(address);
  std::shared_lock lock(mu_);
  auto a = by_address_.find(key);
  if (a != by_address_.end()) {
    const auto& state = *by_id_.at(a->second);
    if (state.record.account == account && state.record.expire_at > now) {
      Outcome<MailboxMessages> out;
      out.value.mailbox = state.record.address;
      if (after_seq <= 0) {
        out.value.messages = state.messages;
      } else {
        auto first = std::upper_bound(
            state.messages.begin(), state.messages.end(), after_seq,
            [](std::int64_t seq, const MessageView& v) { return seq < v.message->seq; });
        out.value.messages.assign(first, state.messages.end());
      }
      return out;
    }
  }
  return fail<MailboxMessages>(Status::kNotFound, not_found_mailbox(address));
}

Outcome<MessageView> Store::read_message(std::string_view account, std::string_view id) {
  const sys_seconds now = this->now();
  bool newly_seen = false;
  Outcome<MessageView> out;
  {
    std::unique_lock lock(mu_);
    auto m = message_mailbox_.find(std::string(id));
    if (m == message_mailbox_.end())
      return fail<MessageView>(Status::kNotFound, not_found_message(id));
    auto& state = *by_id_.at(m->second);
    if (state.record.account != account || state.record.expire_at <= now)
      return fail<MessageView>(Status::kNotFound, not_found_message(id));
    auto it = std::find_if(state.messages.begin(), state.messages.end(),
                           [&](const MessageView& v) { return v.message->id == id; });
    if (it == state.messages.end())
      return fail<MessageView>(Status::kNotFound, not_found_message(id));
    newly_seen = !it->seen;
    it->seen = true;
    out.value = *it;
  }
  if (newly_seen) {
    // Flushed with the writer's next transaction: a `seen` flag lost to a
    // crash is harmless, an fsync per read would not be.
    std::lock_guard q(queue_mu_);
    seen_queue_.push_back(out.value.message->seq);
  }
  return out;
}

Outcome<std::int64_t> Store::message_seq(std::string_view account, std::string_view id) {
  const sys_seconds now = this->now();
  std::shared_lock lock(mu_);
  auto m = message_mailbox_.find(std::string(id));
  if (m != message_mailbox_.end()) {
    const auto& state = *by_id_.at(m->second);
    if (state.record.account == account && state.record.expire_at > now) {
      for (const auto& v : state.messages)
        if (v.message->id == id)
          return Outcome<std::int64_t>{
              .status = Status::kOk, .value = v.message->seq, .reason = {}};
    }
  }
  return fail<std::int64_t>(Status::kNotFound, not_found_message(id));
}

Outcome<std::shared_ptr<const Envelope>> Store::envelope(std::string_view account,
                                                         std::string_view id) {
  using Result = Outcome<std::shared_ptr<const Envelope>>;
  const sys_seconds now = this->now();
  std::shared_lock lock(mu_);
  auto m = message_mailbox_.find(std::string(id));
  if (m != message_mailbox_.end()) {
    const auto& state = *by_id_.at(m->second);
    if (state.record.account == account && state.record.expire_at > now)
      for (const auto& v : state.messages) {
        if (v.message->id != id) continue;
        if (!v.message->envelope)
          return fail<std::shared_ptr<const Envelope>>(
              Status::kNotFound, "Message " + std::string(id) +
                                     " has no envelope: it was stored by a server version that "
                                     "did not keep envelopes");
        return Result{.status = Status::kOk, .value = v.message->envelope, .reason = {}};
      }
  }
  return fail<std::shared_ptr<const Envelope>>(Status::kNotFound, not_found_message(id));
}

Status Store::delete_message(std::string_view account, std::string_view id) {
  const sys_seconds now = this->now();
  std::lock_guard write(write_mu_);
  if (!db_) return Status::kUnavailable;
  std::int64_t mailbox = 0;
  std::int64_t seq = 0;
  {
    std::shared_lock lock(mu_);
    auto m = message_mailbox_.find(std::string(id));
    if (m == message_mailbox_.end()) return Status::kNotFound;
    const auto& state = *by_id_.at(m->second);
    if (state.record.account != account || state.record.expire_at <= now) return Status::kNotFound;
    mailbox = m->second;
    for (const auto& v : state.messages)
      if (v.message->id == id) seq = v.message->seq;
  }
  WriteTx tx(*this);
  statement("DELETE FROM messages WHERE seq = ?").bind(1, seq).run();
  tx.commit();
  raw_collect_due_ = true;
  std::unique_lock lock(mu_);
  auto& messages = by_id_.at(mailbox)->messages;
  std::erase_if(messages, [&](const MessageView& v) { return v.message->id == id; });
  message_mailbox_.erase(std::string(id));
  return Status::kOk;
}

Outcome<AttachmentView> Store::attachment(std::string_view account, std::string_view id,
                                          std::string_view name) {
  const sys_seconds now = this->now();
  std::shared_ptr<const StoredMessage> message;
  {
    std::shared_lock lock(mu_);
    auto m = message_mailbox_.find(std::string(id));
    if (m == message_mailbox_.end())
      return fail<AttachmentView>(Status::kNotFound, not_found_message(id));
    const auto& state = *by_id_.at(m->second);
    if (state.record.account != account || state.record.expire_at <= now)
      return fail<AttachmentView>(Status::kNotFound, not_found_message(id));
    for (const auto& v : state.messages)
      if (v.message->id == id) message = v.message;
  }
  // Outside the lock: this may parse the message.
  if (message) {
    const auto& attachments = message->fields().attachments;
    for (std::size_t i = 0; i < attachments.size(); ++i)
      if (attachments[i].name == name)
        return Outcome<AttachmentView>{
            .status = Status::kOk, .value = AttachmentView{message, i}, .reason = {}};
  }
  return fail<AttachmentView>(Status::kNotFound,
                              "Message " + std::string(id) + " has no attachment named '" +
                                  std::string(name) + "': see the message's attachments[].url");
}

Outcome<std::string> Store::inject(std::string_view account, std::string_view address,
                                   std::string raw) {
  const std::string rcpt = lower(address);
  {
    std::shared_lock lock(mu_);
    auto a = by_address_.find(rcpt);
    if (a == by_address_.end() || by_id_.at(a->second)->record.account != account ||
        by_id_.at(a->second)->record.expire_at <= now())
      return fail<std::string>(Status::kNotFound, not_found_mailbox(address));
  }
  auto raw_ptr = std::make_shared<const std::string>(std::move(raw));
  auto fields = std::make_shared<const LazyFields>(raw_ptr, parser_);
  std::promise<std::pair<std::error_code, std::vector<std::string>>> promise;
  auto future = promise.get_future();
  commit_or_enqueue(PendingDelivery{
      .raw = std::move(raw_ptr),
      .fields = std::move(fields),
      .envelope = std::make_shared<const Envelope>(Envelope{.rcpt_to = {rcpt}, .injected = true}),
      .recipients = {rcpt},
      .done = [&promise](std::error_code ec, const std::vector<std::string>& ids) {
        promise.set_value({ec, ids});
      }});
  auto [ec, ids] = future.get();
  if (ec == std::errc::operation_canceled)
    return fail<std::string>(Status::kUnavailable, "The server is shutting down");
  if (ec) throw std::runtime_error("could not store the message: " + ec.message());
  if (ids.empty()) return fail<std::string>(Status::kNotFound, not_found_mailbox(address));
  return Outcome<std::string>{.status = Status::kOk, .value = ids.front(), .reason = {}};
}

// --- SMTP ------------------------------------------------------------------

bool Store::accepts_recipient(std::string_view address) {
  const sys_seconds now = this->now();
  std::shared_lock lock(mu_);
  auto a = by_address_.find(lower(address));
  return a != by_address_.end() && by_id_.at(a->second)->record.expire_at > now;
}

void Store::deliver(std::shared_ptr<const std::string> raw, Envelope envelope,
                    std::function<void(std::error_code)> done) {
  std::vector<std::string> recipients;
  recipients.reserve(envelope.rcpt_to.size());
  for (const auto& r : envelope.rcpt_to) recipients.push_back(lower(r));
  auto fields = std::make_shared<const LazyFields>(raw, parser_);
  commit_or_enqueue(PendingDelivery{
      .raw = std::move(raw),
      .fields = std::move(fields),
      .envelope = std::make_shared<const Envelope>(std::move(envelope)),
      .recipients = std::move(recipients),
      .done = [done = std::move(done)](std::error_code ec, const std::vector<std::string>&) {
        done(ec);
      }});
}

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

// --- the writer ------------------------------------------------------------

void Store::writer_loop() {
  auto last_purge = std::chrono::steady_clock::now();
  int last_checkpointed_pages = 0;
  while (true) {
    std::vector<PendingDelivery> batch;
    std::vector<std::int64_t> seen;
    bool stop = false;
    bool idle = false;
    bool apply_rows = false;
    bool checkpoint_now = false;
    {
      // Rows waiting for SQLite wake the writer after journal_apply_after.
      const bool rows_waiting = unapplied_count_.load(std::memory_order_relaxed) > 0;
      const auto wait =
          rows_waiting
              ? std::chrono::duration_cast<std::chrono::milliseconds>(options_.journal_apply_after)
              : std::chrono::duration_cast<std::chrono::milliseconds>(kIdleFlush);
      std::unique_lock q(queue_mu_);
      const bool timed_out = !queue_cv_.wait_for(q, wait, [&] {
        return stopping_ || !queue_.empty() || checkpoint_due_ || apply_due_ || rows_arrived_;
      });
      rows_arrived_ = false;  // the next wait is journal_apply_after long
      idle = timed_out && !rows_waiting;
      batch.swap(queue_);
      seen.swap(seen_queue_);
      stop = stopping_;
      apply_rows = apply_due_ || (timed_out && rows_waiting) || stop || rows_overdue();
      apply_due_ = false;
      checkpoint_now = checkpoint_due_;
      checkpoint_due_ = false;
    }
    bool flush_quota = false;
    {
      std::lock_guard q(quota_mu_);
      flush_quota = quota_dirty_;
    }
    apply_rows = apply_rows && unapplied_count_.load(std::memory_order_relaxed) > 0;
    if (!batch.empty() || !seen.empty() || flush_quota || apply_rows)
      commit_batch(batch, seen, flush_quota, apply_rows, std::unique_lock(write_mu_));
    if (stop) break;
    // Also when idle, so a quiet server's WAL is folded into the database.
    const int pages = wal_pages_.load(std::memory_order_relaxed);
    if (checkpoint_now || (idle && pages > 0 && pages != last_checkpointed_pages)) {
      checkpoint();
      last_checkpointed_pages = pages;
    }
    if (std::chrono::steady_clock::now() - last_purge >= kPurgeInterval) {
      try {
        purge_expired();
        collect_raw_segments();
      } catch (const std::exception& e) {
        if (options_.log)
          options_.log(std::string("purging expired mailboxes failed: ") + e.what());
      }
      last_purge = std::chrono::steady_clock::now();
    }
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

void Store::commit_batch(std::vector<PendingDelivery>& batch, std::vector<std::int64_t>& seen_seqs,
                         bool flush_quota, bool apply_rows, std::unique_lock<std::mutex> write) {
  const sys_seconds now = this->now();
  struct Added {
    std::int64_t mailbox;
    MessageView view;
  };
  std::vector<Added> added;
  std::vector<std::vector<std::string>> ids(batch.size());
  std::error_code error;
  bool first_rows = false;  // rows wait for SQLite now, and none did before
  try {
    if (!db_) throw std::runtime_error("the database is closed");
    // Each delivery's messages, one per live mailbox it reaches. Only the
    // writer and API mutations (both under write_mu_) change the mailbox
    // maps, so reading them here without mu_ is race-free.
    std::vector<JournalEntry> entries(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      entries[i].received_at = to_unix(now);
      if (batch[i].envelope) entries[i].envelope = *batch[i].envelope;
      for (const auto& rcpt : batch[i].recipients) {
        auto a = by_address_.find(rcpt);
        if (a == by_address_.end()) continue;
        const auto& state = *by_id_.at(a->second);
        if (state.record.expire_at <= now) continue;
        auto m = std::make_shared<StoredMessage>();
        do {
          m->id = tempmail::detail::random_alnum(kMessageIdLength);
        } while (message_mailbox_.contains(m->id));
        m->seq = next_seq_++;
        m->to = rcpt;
        m->received_at = now;
        m->lazy_fields = batch[i].fields;
        m->envelope = batch[i].envelope;
        ids[i].push_back(m->id);
        const MailboxRecord& r = state.record;
        entries[i].copies.push_back(
            JournalCopy{.seq = m->seq,
                        .mailbox = r.id,
                        .id = m->id,
                        .to = m->to,
                        .box = JournalMailbox{.account = r.account,
                                              .address = r.address,
                                              .domain = r.domain,
                                              .created_at = to_unix(r.created_at),
                                              .expire_at = to_unix(r.expire_at),
                                              .token = r.token}});
        added.push_back(Added{state.record.id, MessageView{std::move(m), false}});
      }
    }
    // With a file, a delivery is durable once its journal record is written;
    // its rows reach SQLite later (journal.hpp says why). Without one,
    // nothing outlives the process and no query reads messages back from
    // SQLite (reads come from the index).
    if (raw_log_) {
      const bool had_rows = !unapplied_.empty();
      journal_locked(batch, entries);
      first_rows = !had_rows && !unapplied_.empty();
    }
  } catch (const std::exception& e) {
    if (options_.log) options_.log(std::string("storing messages failed: ") + e.what());
    error = std::make_error_code(std::errc::io_error);
    added.clear();
  }
  if (!error && !added.empty()) {
    std::unique_lock lock(mu_);
    for (auto& a : added) {
      message_mailbox_[a.view.message->id] = a.mailbox;
      by_id_.at(a.mailbox)->messages.push_back(std::move(a.view));
    }
  }
  // Rows waiting for SQLite, seen flags and quota counters: one transaction,
  // whose failure loses nothing acknowledged (the journal keeps the rows,
  // and they are retried with the next transaction).
  const bool file = !options_.db_path.empty();
  if (db_ && ((apply_rows && !unapplied_.empty()) || (file && !seen_seqs.empty()) || flush_quota)) {
    std::vector<std::pair<std::string, QuotaCounter>> quota_rows;
    try {
      WriteTx tx(*this);
      if (file)
        for (const auto seq : seen_seqs)
          statement("UPDATE messages SET seen = 1 WHERE seq = ?").bind(1, seq).run();
      if (flush_quota) {
        std::lock_guard q(quota_mu_);
        for (auto& [account, counter] : quota_) {
          if (!counter.dirty) continue;
          quota_rows.emplace_back(account, counter);
          counter.dirty = false;
        }
        quota_dirty_ = false;
      }
      for (const auto& [account, counter] : quota_rows)
        statement(
            "INSERT INTO quota(account, month, used) VALUES(?, ?, ?) "
            "ON CONFLICT(account, month) DO UPDATE SET used = excluded.used")
            .bind(1, account)
            .bind(2, counter.month)
            .bind(3, counter.used)
            .run();
      tx.commit();
    } catch (const std::exception& e) {
      if (options_.log) options_.log(std::string("writing to the database failed: ") + e.what());
      if (!quota_rows.empty()) {
        std::lock_guard q(quota_mu_);
        quota_dirty_ = true;
        for (const auto& row : quota_rows) quota_[row.first].dirty = true;
      }
    }
  }
  write.unlock();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (error) ids[i].clear();
    batch[i].done(error, ids[i]);
  }
  std::vector<std::int64_t> touched;
  for (const auto& a : added) touched.push_back(a.mailbox);
  wake_watchers(touched);
  std::vector<std::shared_ptr<const LazyFields>> to_parse;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (!ids[i].empty()) to_parse.push_back(std::move(batch[i].fields));
  parse_later(std::move(to_parse));
  // The writer writes the rows journal_apply_after from now (it may be in a
  // longer idle wait), or at once when enough wait.
  const bool enough =
      unapplied_count_.load(std::memory_order_relaxed) >= options_.journal_apply_rows;
  if (first_rows || enough) {
    std::lock_guard q(queue_mu_);
    if (enough && !apply_due_) {
      apply_due_ = true;
      queue_cv_.notify_one();
    } else if (first_rows && !rows_arrived_) {
      rows_arrived_ = true;
      queue_cv_.notify_one();
    }
  }
}

// --- the parser ------------------------------------------------------------

void Store::parse_later(std::vector<std::shared_ptr<const LazyFields>> fields) {
  if (fields.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(parse_mu_);
    if (parse_stopping_) return;  // readers parse what is left
    wake = parse_queue_.empty();  // else the parser is awake and will see these
    parse_queue_.insert(parse_queue_.end(), std::make_move_iterator(fields.begin()),
                        std::make_move_iterator(fields.end()));
  }
  if (wake) parse_cv_.notify_one();
}

void Store::parser_loop() {
  std::vector<std::shared_ptr<const LazyFields>> batch;
  while (true) {
    {
      std::unique_lock lock(parse_mu_);
      parse_cv_.wait(lock, [&] { return parse_stopping_ || !parse_queue_.empty(); });
      // Lets a burst gather: one wake-up per kParseGather, not one per message
      // (parse_later notifies only an empty queue). Readers do not wait for it.
      parse_cv_.wait_for(lock, kParseGather, [&] { return parse_stopping_; });
      if (parse_stopping_) return;
      batch.swap(parse_queue_);
    }
    // Skipped when only the queue still refers to the fields: every message
    // of that delivery was deleted before anyone read it.
    for (const auto& f : batch)
      if (f.use_count() > 1) (void)f->get();
    batch.clear();
  }
}

// --- watchers --------------------------------------------------------------

Store::WatchId Store::watch(std::string_view account, std::string_view address,
                            std::function<void()> wake) {
  std::int64_t mailbox = 0;
  {
    std::shared_lock lock(mu_);
    auto a = by_address_.find(lower(address));
    if (a == by_address_.end()) return 0;
    const auto& state = *by_id_.at(a->second);
    if (state.record.account != account || state.record.expire_at <= now()) return 0;
    mailbox = state.record.id;
  }
  std::lock_guard lock(watch_mu_);
  WatchId id = next_watch_++;
  watchers_.emplace(id, Watcher{mailbox, std::move(wake)});
  return id;
}

void Store::unwatch(WatchId id) {
  std::lock_guard lock(watch_mu_);
  watchers_.erase(id);
}

void Store::wake_watchers(const std::vector<std::int64_t>& mailbox_ids) {
  if (mailbox_ids.empty()) return;
  std::vector<std::function<void()>> wakes;
  {
    std::unordered_set<std::int64_t> ids(mailbox_ids.begin(), mailbox_ids.end());
    std::lock_guard lock(watch_mu_);
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      if (ids.contains(it->second.mailbox_id)) {
        wakes.push_back(std::move(it->second.wake));
        it = watchers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : wakes) w();
}

// --- quota -----------------------------------------------------------------

QuotaState Store::quota(std::string_view account) {
  const sys_seconds now = this->now();
  const std::string month = month_of(now);
  std::lock_guard lock(quota_mu_);
  auto& c = quota_[std::string(account)];
  if (c.month != month) c = QuotaCounter{.month = month, .used = 0, .dirty = false};
  return QuotaState{.limit = options_.monthly_quota,
                    .used = c.used,
                    .reset = tempmail::detail::start_of_next_month(now)};
}

QuotaState Store::count_call(std::string_view account) {
  const sys_seconds now = this->now();
  const std::string month = month_of(now);
  std::lock_guard lock(quota_mu_);
  auto& c = quota_[std::string(account)];
  if (c.month != month) c = QuotaCounter{.month = month, .used = 0, .dirty = false};
  ++c.used;
  c.dirty = true;
  quota_dirty_ = true;
  return QuotaState{.limit = options_.monthly_quota,
                    .used = c.used,
                    .reset = tempmail::detail::start_of_next_month(now)};
}

// --- lifecycle -------------------------------------------------------------

StoreStats Store::stats() const {
  StoreStats s;
  {
    std::shared_lock lock(mu_);
    s.mailboxes = by_id_.size();
    s.messages = message_mailbox_.size();
  }
  {
    std::lock_guard q(queue_mu_);
    s.queued = queue_.size();
  }
  s.unapplied = unapplied_count_.load(std::memory_order_relaxed);
  std::lock_guard w(watch_mu_);
  s.watchers = watchers_.size();
  return s;
}

void Store::stop() noexcept {
  {
    std::lock_guard q(queue_mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(parse_mu_);
    parse_stopping_ = true;
    parse_queue_.clear();  // readers parse these on first use
  }
  parse_cv_.notify_all();
  if (parse_thread_.joinable()) parse_thread_.join();
  std::vector<std::int64_t> all;
  {
    std::lock_guard write(write_mu_);
    statements_.clear();
    checkpoint_db_.reset();
    db_.reset();  // the last connection: checkpoints the WAL and removes it
    lock_.reset();
    std::shared_lock lock(mu_);
    for (const auto& [id, state] : by_id_) all.push_back(id);
  }
  // Long-polls return now rather than at their deadline.
  wake_watchers(all);
}

}  // namespace tempmail::local::detail
