// The raw log's record of one delivery: the rows of its messages (with the
// mailboxes they belong to), then the raw text, each guarded by a checksum.
//
// Rationale: the store acknowledges a delivery once this record is written
// (one pwritev), and writes the rows into SQLite later, many per transaction
// (store.hpp). On one reused SMTP connection a SQLite transaction per
// message (WAL frames, locks) cost as much as the rest of the message did
// (bench/RESULTS.md). After a crash, the records past the database's
// journal mark give back the rows it lacks; and because a record also says
// which mailbox each copy went to, a database that lost its file or its WAL
// can be rebuilt from the records alone: the raw log is the ground truth.
//
// Layout of a version-2 record (integers little-endian; text = u16 n | n bytes):
//   "TMJ2" | u32 header length | u64 raw length | i64 received_at | u64 raw checksum
//   | u32 copies | copies x (i64 seq | i64 mailbox | text id | text to
//   | text account | text address | text domain | i64 created_at | i64 expire_at
//   | text token) | envelope | u64 header checksum   (of every header byte before it)
//   envelope: text mail_from | u16 n | n x text rcpt_to | text helo | text client
//   | u8 flags (1: tls, 2: auth_user, 4: injected) | text tls version
//   | text tls cipher | text auth_user      (also a message row's `envelope`)
//   raw: the message's bytes               (raw checksum: theirs)
// Checksums are XXH3-64 (libxxhash). Rationale: zlib's CRC-32 cost 5.4
// instructions a byte, +18% of an acknowledged 50 KB message (callgrind);
// XXH3 is made for this job (detecting damage, not attacks) at a fraction.
// Version 1 records ("TMJ1", written before checksums, read still) have no
// checksums and no mailboxes and end in a trailer: u64 header + raw length | "1JMT".
//
// A scan reads every record it can: a damaged stretch (bytes changed on disk)
// is skipped up to the next record whose header checksum holds, and reported;
// a record whose header holds but whose raw text does not is kept and marked
// damaged (its rows are known; its text must not be served). A record that
// stops short at the end is one a crash cut off while it was being written,
// before its delivery was acknowledged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "local/mail_sink.hpp"

namespace tempmail::local::detail {

/// The mailbox row a copy belonged to when it was delivered.
struct JournalMailbox {
  std::string account;  ///< SHA-256 hex of the API key (never the key)
  std::string address;
  std::string domain;
  std::int64_t created_at = 0;  ///< Unix seconds
  std::int64_t expire_at = 0;
  std::string token;

  bool operator==(const JournalMailbox&) const = default;
};

struct JournalCopy {
  std::int64_t seq = 0;
  std::int64_t mailbox = 0;
  std::string id;
  std::string to;
  JournalMailbox box;  ///< empty in version-1 records

  bool operator==(const JournalCopy&) const = default;
};

/// One delivery: the messages (one per mailbox) that share a raw text.
struct JournalEntry {
  std::int64_t received_at = 0;  ///< Unix seconds
  std::vector<JournalCopy> copies;
  Envelope envelope;  ///< empty in version-1 records

  bool operator==(const JournalEntry&) const = default;
};

/// XXH3-64, the checksum of raw texts and headers.
std::uint64_t journal_checksum(std::string_view bytes);

/// A version-2 record's header for `raw` (the record is the header, then raw).
std::string encode_journal_header(const JournalEntry& entry, std::string_view raw);
/// The same when the raw text's checksum is already known.
std::string encode_journal_header(const JournalEntry& entry, std::uint64_t raw_length,
                                  std::uint64_t raw_checksum);

/// An envelope as the journal writes it (and a message row keeps it).
std::string encode_envelope(const Envelope& envelope);
/// nullopt when `bytes` is not exactly one encoded envelope.
std::optional<Envelope> decode_envelope(std::string_view bytes);

/// A version-1 record, as the store wrote them before checksums (tests make
/// old raw logs with it).
std::string encode_journal_v1_record(const JournalEntry& entry, std::string_view raw);

/// The fixed start of every header: magic, header length, raw length.
inline constexpr std::size_t kJournalPrefixBytes = 16;
/// Longer headers are not ours (an address is at most 254 bytes, and a
/// delivery reaches at most the SMTP recipient limit of mailboxes).
inline constexpr std::size_t kJournalMaxHeaderBytes = std::size_t{1} << 20;

struct ScannedRecord {
  JournalEntry entry;
  int version = 2;
  std::uint64_t offset = 0;      ///< where the record starts in the scanned bytes
  std::uint64_t raw_offset = 0;  ///< where its raw text starts
  std::uint64_t raw_length = 0;
  std::optional<std::uint64_t> raw_checksum;  ///< what was written (none in version 1)
  bool raw_intact = true;                     ///< the raw text still has that checksum
};

/// Bytes that are not a record.
struct DamagedRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  /// Good records follow it, so whatever it held was written before them,
  /// and had been acknowledged: it is lost mail, not a cut-off write.
  bool followed_by_records = false;
};

struct JournalScan {
  std::vector<ScannedRecord> records;  ///< in order
  std::vector<DamagedRange> damaged;   ///< stretches skipped between (or after) them
  /// Bytes at the end that start a record the scan could not finish: a write
  /// cut off by a crash (never acknowledged). 0 when there are none.
  std::uint64_t cut_off_bytes = 0;
};
/// Every record in `bytes` (a segment from a record's start).
JournalScan scan_journal(std::string_view bytes);

}  // namespace tempmail::local::detail
