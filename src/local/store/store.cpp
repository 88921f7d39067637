// The store's front: opening, the API's operations on the in-memory index
// (each durable first, then visible), the MailSink side of SMTP, the watch
// and quota hooks, and stopping. store.hpp has the design; the writer,
// recovery and upkeep live in writer.cpp, recovery.cpp and maintenance.cpp.
#include "local/store/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <future>
#include <stdexcept>

#include "common/ascii.hpp"
#include "common/random.hpp"
#include "local/store/sqlite.hpp"
#include "local/store/unix_time.hpp"
#include "local/store/write_tx.hpp"

namespace tempmail::local::detail {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_seconds;

constexpr std::string_view kLocalPartAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::size_t kLocalPartLength = 10;
constexpr std::size_t kTokenLength = 40;

std::string lower(std::string_view s) { return tempmail::detail::to_ascii_lower(s); }

bool valid_username(std::string_view u) {
  if (u.empty() || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

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

// --- opening -----------------------------------------------------------------

StoreOptions Store::validated(StoreOptions options) {
  if (options.domains.empty())
    throw std::invalid_argument("StoreOptions::domains is empty: configure at least one domain");
  for (auto& d : options.domains) {
    d.name = lower(d.name);
    d.type = lower(d.type);
    if (d.name.empty() || d.type.empty())
      throw std::invalid_argument("StoreOptions::domains has an empty domain name or type");
  }
  if (options.mailbox_ttl <= 0s)
    throw std::invalid_argument("StoreOptions::mailbox_ttl must be positive");
  if (options.monthly_quota < 0)
    throw std::invalid_argument("StoreOptions::monthly_quota must not be negative");
  if (!options.parse) throw std::invalid_argument("StoreOptions::parse is not set");
  if (!options.clock)
    options.clock = [] {
      return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    };
  return options;
}

Store::Store(StoreOptions options)
    : options_(validated(std::move(options))),
      quota_book_(options_.monthly_quota),
      parser_(std::make_shared<const FieldParser>(FieldParser{options_.parse, options_.log})) {
  if (!options_.db_path.empty()) {
    check_database_path(options_.db_path);
    lock_ = std::make_unique<DatabaseLock>(options_.db_path);
    set_aside_orphaned_wal(options_.db_path, options_.log);
  }
  open_database();
  recover_from_raw_log(migrate());
  load();
  purge_expired();
  collect_raw_segments();
  writer_ = std::thread([this] { writer_loop(); });
}

Store::~Store() { stop(); }

void Store::open_database() {
  db_ = std::make_unique<Database>(options_.db_path);
  db_->exec("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
  if (!options_.db_path.empty()) open_file_database();
}

void Store::open_file_database() {
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
  const char* sync = options_.fsync ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;";
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

std::filesystem::path Store::raw_log_directory(const std::filesystem::path& db_path) {
  return std::filesystem::path(db_path.string() + "-raw");
}

sys_seconds Store::now() const { return options_.clock(); }

Statement& Store::statement(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end())
    it =
        statements_.emplace(std::string(sql), std::make_unique<Statement>(db_->prepare(sql))).first;
  return *it->second;
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
  watchers_.wake(removed);
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
  watchers_.wake(removed);
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
  watchers_.wake(removed);
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
  watchers_.wake(removed);
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

// --- long-poll hook -----------------------------------------------------------

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
  return watchers_.add(mailbox, std::move(wake));
}

void Store::unwatch(WatchId id) { watchers_.remove(id); }

// --- quota -------------------------------------------------------------------

QuotaState Store::quota(std::string_view account) { return quota_book_.state(account, now()); }

QuotaState Store::count_call(std::string_view account) { return quota_book_.count(account, now()); }

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
  parser_thread_.stop();
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
  watchers_.wake(all);
}

}  // namespace tempmail::local::detail
