// The raw log's record of one delivery: the rows of its messages, then the
// raw text, then a trailer.
//
// Rationale: the store acknowledges a delivery once this record is written
// (one pwritev), and writes the rows into SQLite later, many per transaction
// (store.hpp). On one reused SMTP connection a SQLite transaction per
// message (WAL frames, locks) cost as much as the rest of the message did
// (bench/RESULTS.md). After a crash, the records past the database's
// journal mark give back the rows it lacks.
//
// Layout (integers little-endian):
//   header:  "TMJ1" | u32 header length | u64 raw length | i64 received_at
//            | u32 copies | copies x (i64 seq | i64 mailbox | u16 n | id[n]
//            | u16 n | to[n])
//   raw:     the message's bytes
//   trailer: u64 length of header + raw | "1JMT"
// A record that stops short of its trailer (a process killed while writing
// it, before its delivery was acknowledged) is where a scan stops.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tempmail::local::detail {

struct JournalCopy {
  std::int64_t seq = 0;
  std::int64_t mailbox = 0;
  std::string id;
  std::string to;

  bool operator==(const JournalCopy&) const = default;
};

/// One delivery: the messages (one per mailbox) that share a raw text.
struct JournalEntry {
  std::int64_t received_at = 0;  ///< Unix seconds
  std::vector<JournalCopy> copies;

  bool operator==(const JournalEntry&) const = default;
};

/// The fixed start of every header: magic, header length, raw length.
inline constexpr std::size_t kJournalPrefixBytes = 16;
inline constexpr std::size_t kJournalTrailerBytes = 12;
/// Longer headers are not ours (an address is at most 254 bytes, and a
/// delivery reaches at most the SMTP recipient limit of mailboxes).
inline constexpr std::size_t kJournalMaxHeaderBytes = std::size_t{1} << 20;

std::string encode_journal_header(const JournalEntry& entry, std::uint64_t raw_length);
std::string encode_journal_trailer(std::uint64_t header_length, std::uint64_t raw_length);

struct JournalPrefix {
  std::uint64_t header_length = 0;
  std::uint64_t raw_length = 0;
};
/// The lengths a header's first kJournalPrefixBytes bytes announce; nullopt
/// when they are not a header's (wrong magic, impossible length).
std::optional<JournalPrefix> decode_journal_prefix(std::string_view bytes);
/// A whole header (`bytes` holds exactly header_length bytes); nullopt when
/// its fields do not fill it exactly.
std::optional<JournalEntry> decode_journal_header(std::string_view bytes);
/// True when `bytes` is the trailer of a record with these lengths.
bool valid_journal_trailer(std::string_view bytes, const JournalPrefix& prefix);

struct ScannedRecord {
  JournalEntry entry;
  std::uint64_t offset = 0;      ///< where the record starts in the scanned bytes
  std::uint64_t raw_offset = 0;  ///< where its raw text starts
  std::uint64_t raw_length = 0;
};
struct JournalScan {
  std::vector<ScannedRecord> records;  ///< whole records, in order, back to back
  std::uint64_t end = 0;               ///< where they end: the first byte not read as one
};
/// The whole records at the start of `bytes` (a segment from a record's
/// start); the scan stops at the first thing that is not one.
JournalScan scan_journal(std::string_view bytes);

}  // namespace tempmail::local::detail
