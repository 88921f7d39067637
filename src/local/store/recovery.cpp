// Store start-up: migrate the schema, write back as rows every delivery
// whose record is in the raw log and whose rows the database lacks, then
// load the in-memory index (mailboxes, messages, this month's quota).
//
// Two cases, one mechanism. A segment the database knows holds records past
// the journal mark when the server stopped without writing their rows (kill
// -9, a crash). A segment it does not know was written by a database that is
// gone: the file was emptied, deleted or replaced, or lost its WAL after a
// crash. Its records are read whole, and the mailboxes they name are made
// again where the database has none. Nothing is deleted here, and a segment
// with anything that could not be restored stays unknown (so it is never
// deleted, and read again at the next start).
#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>

#include "local/store/journal.hpp"
#include "local/store/schema.hpp"
#include "local/store/sqlite.hpp"
#include "local/store/store.hpp"
#include "local/store/unix_time.hpp"

namespace tempmail::local::detail {

Store::Recovery& Store::Recovery::operator+=(const Recovery& r) {
  restored += r.restored;
  mailboxes += r.mailboxes;
  unrestored += r.unrestored;
  return *this;
}

void Store::recover_from_raw_log(int previous_version) {
  if (!raw_log_) return;
  std::set<std::int64_t> known;
  {
    auto q = db_->prepare("SELECT segment FROM raw_segments");
    while (q.step()) known.insert(q.column_int(0));
  }
  std::optional<RawRef> mark;
  {
    auto q = db_->prepare("SELECT mark_segment, mark_offset, next_seq FROM journal");
    if (q.step()) {
      mark = RawRef{.segment = q.column_int(0), .offset = q.column_int(1), .length = 0};
      next_seq_ = std::max(next_seq_, q.column_int(2));
    }
  }
  Transaction tx(*db_);
  const auto on_disk = raw_log_->segments();
  // A v2/v3 store deleted every segment its rows did not refer to, so what
  // is on disk when such a file is upgraded is its own.
  if (previous_version == 2 || previous_version == 3)
    for (const auto segment : on_disk) {
      register_segment(segment);
      known.insert(segment);
    }
  Recovery total;
  for (const auto segment : on_disk) {
    if (segment == raw_log_->active_segment()) continue;
    if (known.contains(segment)) {
      // No mark: every row was written at once (a v2 raw log of bare texts).
      if (!mark || segment < mark->segment) continue;
      total += restore_segment(segment, segment == mark->segment ? mark->offset : 0);
      continue;
    }
    const Recovery r = restore_segment(segment, 0);
    total += r;
    const bool empty = raw_log_->segment_size(segment) == 0;
    if (r.unrestored == 0 && (r.restored > 0 || empty)) register_segment(segment);
    if (!empty && options_.log)
      options_.log(
          "the database did not know the raw log file '" + raw_log_->path_of(segment).string() +
          "' (the database was emptied, deleted or replaced, or lost its write-ahead log): "
          "restored " +
          std::to_string(r.restored) + " messages and " + std::to_string(r.mailboxes) +
          " mailboxes from its records" +
          (r.unrestored > 0 || r.restored == 0
               ? "; the file is kept as it is and read again at the next start"
               : ""));
  }
  // Appends go to a new segment from now on (RawLog starts one per open).
  journal_end_ = RawRef{.segment = raw_log_->active_segment(),
                        .offset = static_cast<std::int64_t>(raw_log_->active_size()),
                        .length = 0};
  register_segment(raw_log_->active_segment());
  write_journal_mark_locked();
  tx.commit();
  if (total.restored > 0 && options_.log)
    options_.log("recovered " + std::to_string(total.restored) +
                 " acknowledged messages from the raw log that the database did not have yet");
}

Store::Recovery Store::restore_segment(std::int64_t segment, std::int64_t from) {
  const std::uint64_t size = raw_log_->segment_size(segment);
  const auto start = static_cast<std::uint64_t>(std::max<std::int64_t>(from, 0));
  if (start >= size) return {};
  const std::string bytes =
      raw_log_->read(RawRef{.segment = segment,
                            .offset = static_cast<std::int64_t>(start),
                            .length = static_cast<std::int64_t>(size - start)});
  const JournalScan scan = scan_journal(bytes);
  Recovery r;
  for (const auto& record : scan.records)
    for (const auto& copy : record.entry.copies) r += restore_copy(copy, record, segment, start);
  log_damage(segment, start, scan);
  return r;
}

Store::Recovery Store::restore_copy(const JournalCopy& copy, const ScannedRecord& record,
                                    std::int64_t segment, std::uint64_t start) {
  Recovery r;
  next_seq_ = std::max(next_seq_, copy.seq + 1);
  auto& exists = statement("SELECT 1 FROM mailboxes WHERE id = ?");
  const bool mailbox_exists = exists.bind(1, copy.mailbox).step();
  exists.reset();
  if (!mailbox_exists) {
    std::string why;
    if (copy.box.address.empty()) {
      why = "its record (written before checksums) does not say which mailbox it went to";
    } else {
      auto& taken = statement("SELECT 1 FROM mailboxes WHERE address = ?");
      if (taken.bind(1, copy.box.address).step()) why = "its address is another mailbox's now";
      taken.reset();
    }
    if (!why.empty()) {
      if (options_.log)
        options_.log("message " + copy.id + " to " + copy.to + " in '" +
                     raw_log_->path_of(segment).string() + "' could not be restored: " + why);
      ++r.unrestored;
      return r;
    }
    statement(
        "INSERT INTO mailboxes(id, account, address, domain, created_at, expire_at, token) "
        "VALUES(?, ?, ?, ?, ?, ?, ?)")
        .bind(1, copy.mailbox)
        .bind(2, copy.box.account)
        .bind(3, copy.box.address)
        .bind(4, copy.box.domain)
        .bind(5, copy.box.created_at)
        .bind(6, copy.box.expire_at)
        .bind(7, copy.box.token)
        .run();
    ++r.mailboxes;
  }
  const RawRef raw{.segment = segment,
                   .offset = static_cast<std::int64_t>(start + record.raw_offset),
                   .length = static_cast<std::int64_t>(record.raw_length)};
  const std::string envelope =
      record.version >= 2 ? encode_envelope(record.entry.envelope) : std::string();
  if (insert_message_row(copy.seq, copy.id, copy.mailbox, copy.to, record.entry.received_at, raw,
                         record.raw_checksum, envelope))
    ++r.restored;
  return r;
}

void Store::log_damage(std::int64_t segment, std::uint64_t start, const JournalScan& scan) {
  if (!options_.log) return;
  const std::string file = "'" + raw_log_->path_of(segment).string() + "'";
  for (const auto& d : scan.damaged) {
    const std::string where = "bytes " + std::to_string(start + d.offset) + " to " +
                              std::to_string(start + d.offset + d.length) + " of " + file;
    options_.log(where + " are damaged (not a journal record) and were skipped; " +
                 (d.followed_by_records
                      ? "good records follow them, so what they held had been acknowledged "
                        "and is lost"
                      : "nothing readable follows them: a write cut off by a crash (never "
                        "acknowledged), or a damaged last record"));
  }
  for (const auto& record : scan.records)
    if (!record.raw_intact)
      for (const auto& copy : record.entry.copies)
        options_.log("the text of message " + copy.id + " to " + copy.to + " in " + file +
                     " is damaged (its checksum does not match): it stays listed and reading "
                     "it reports the damage");
  if (scan.cut_off_bytes > 0)
    options_.log("ignored the last " + std::to_string(scan.cut_off_bytes) + " bytes of " + file +
                 ": a delivery cut off while it was being written, so never acknowledged");
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

// --- loading the index -------------------------------------------------------

void Store::load() {
  load_mailboxes();
  load_messages();
  load_quota();
}

void Store::load_mailboxes() {
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
}

namespace {
// The columns load_messages() selects, by number.
namespace loaded {
enum Column : int {
  kId,
  kSeq,
  kMailbox,
  kTo,
  kReceivedAt,
  kSeen,
  kRaw,
  kRawSegment,
  kRawOffset,
  kRawLength,
  kRawInRow,
  kRawChecksum,
  kNoRawChecksum,
  kEnvelope
};
}  // namespace loaded
}  // namespace

void Store::load_messages() {
  // Everything the raw text says is parsed from it again (schema v2): the
  // same parser that accepted the message at delivery.
  auto row = db_->prepare(
      "SELECT id, seq, mailbox, to_address, received_at, seen, raw, raw_segment, raw_offset, "
      "raw_length, raw_segment IS NULL, raw_checksum, raw_checksum IS NULL, envelope FROM "
      "messages ORDER BY seq");
  while (row.step()) {
    auto m = std::make_shared<StoredMessage>();
    m->id = row.column_text(loaded::kId);
    m->seq = row.column_int(loaded::kSeq);
    m->to = row.column_text(loaded::kTo);
    m->received_at = from_unix(row.column_int(loaded::kReceivedAt));
    if (auto envelope = decode_envelope(row.column_blob(loaded::kEnvelope)))
      m->envelope = std::make_shared<const Envelope>(std::move(*envelope));
    MessageFields fields;
    try {
      fields = parse_loaded_text(row);
    } catch (const std::exception& e) {
      // Kept (never dropped) with what the row itself says, and never served
      // as if its text were whole: the API reports it as damaged.
      fields.damage = e.what();
      if (options_.log)
        options_.log("message " + m->id + " is listed without its text: " + e.what());
    }
    m->lazy_fields = std::make_shared<const LazyFields>(std::move(fields));
    next_seq_ = std::max(next_seq_, m->seq + 1);
    const std::int64_t mailbox = row.column_int(loaded::kMailbox);
    auto mb = by_id_.find(mailbox);
    if (mb == by_id_.end()) continue;
    message_mailbox_[m->id] = mailbox;
    mb->second->messages.push_back(MessageView{std::move(m), row.column_int(loaded::kSeen) != 0});
  }
}

MessageFields Store::parse_loaded_text(Statement& row) const {
  if (row.column_int(loaded::kRawInRow) != 0)  // carried over from v1: the text is in the row
    return MessageFields::from(options_.parse(row.column_blob(loaded::kRaw)));
  if (!raw_log_) throw std::runtime_error("no raw log");
  const RawRef ref{.segment = row.column_int(loaded::kRawSegment),
                   .offset = row.column_int(loaded::kRawOffset),
                   .length = row.column_int(loaded::kRawLength)};
  const std::string raw = raw_log_->read(ref);
  if (row.column_int(loaded::kNoRawChecksum) == 0 &&
      journal_checksum(raw) != static_cast<std::uint64_t>(row.column_int(loaded::kRawChecksum)))
    throw std::runtime_error(
        "its text in '" + raw_log_->path_of(ref.segment).string() + "' (bytes " +
        std::to_string(ref.offset) + " to " + std::to_string(ref.offset + ref.length) +
        ") no longer has the checksum it was acknowledged with: the file was changed "
        "outside the server");
  return MessageFields::from(options_.parse(raw));
}

void Store::load_quota() {
  auto quota = db_->prepare("SELECT account, used FROM quota WHERE month = ?");
  const std::string month = QuotaBook::month_of(now());
  quota.bind(1, month);
  while (quota.step())
    quota_book_.load(
        QuotaRow{.account = quota.column_text(0), .month = month, .used = quota.column_int(1)});
}

}  // namespace tempmail::local::detail
