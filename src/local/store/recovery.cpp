// Store start-up, the part that reads the raw log: every delivery whose
// record is there and whose rows the database lacks is written back as rows.
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

#include "local/store/journal.hpp"
#include "local/store/sqlite.hpp"
#include "local/store/store.hpp"

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

}  // namespace tempmail::local::detail
