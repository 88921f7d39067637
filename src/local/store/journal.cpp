#include "local/store/journal.hpp"

#include <xxhash.h>

#include <algorithm>
#include <limits>

namespace tempmail::local::detail {
namespace {

constexpr std::string_view kMagicV1 = "TMJ1";
constexpr std::string_view kMagicV2 = "TMJ2";
constexpr std::string_view kTrailerMagicV1 = "1JMT";
constexpr std::size_t kTrailerBytesV1 = 12;
// magic, header length, raw length, received_at, copies
constexpr std::size_t kFixedHeaderBytesV1 = 4 + 4 + 8 + 8 + 4;
// magic, header length, raw length, received_at, raw checksum, copies, header checksum
constexpr std::size_t kFixedHeaderBytesV2 = 4 + 4 + 8 + 8 + 8 + 4 + 8;
// A raw text the SMTP limits could never let in is not a length we wrote.
constexpr std::uint64_t kMaxRawBytes = std::uint64_t{1} << 40;

template <class T>
void put(std::string& out, T value) {
  auto u = static_cast<std::make_unsigned_t<T>>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

void put_text(std::string& out, std::string_view text) {
  text = text.substr(0, std::numeric_limits<std::uint16_t>::max());
  put(out, static_cast<std::uint16_t>(text.size()));
  out.append(text);
}

// Reads from the front of `in`, which it shortens; false when too short.
template <class T>
bool take(std::string_view& in, T& value) {
  if (in.size() < sizeof(T)) return false;
  std::make_unsigned_t<T> u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    u |= static_cast<std::make_unsigned_t<T>>(static_cast<unsigned char>(in[i])) << (8 * i);
  value = static_cast<T>(u);
  in.remove_prefix(sizeof(T));
  return true;
}

bool take_text(std::string_view& in, std::string& text) {
  std::uint16_t n = 0;
  if (!take(in, n) || in.size() < n) return false;
  text.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

// The fields of a copy that both versions write.
void put_copy_row(std::string& out, const JournalCopy& c) {
  put(out, c.seq);
  put(out, c.mailbox);
  put_text(out, c.id);
  put_text(out, c.to);
}

// Writes the header length (bytes 4..7) once the header is complete.
void seal_length(std::string& header) {
  std::string length;
  put(length, static_cast<std::uint32_t>(header.size()));
  header.replace(4, 4, length);
}

struct Prefix {
  std::uint64_t header_length = 0;
  std::uint64_t raw_length = 0;
};

// The lengths that the prefix at the start of `bytes` announces, if they
// could be ours.
std::optional<Prefix> decode_prefix(std::string_view bytes, std::size_t min_header) {
  if (bytes.size() < kJournalPrefixBytes) return std::nullopt;
  bytes.remove_prefix(4);  // the magic, checked by the caller
  std::uint32_t header_length = 0;
  Prefix prefix;
  take(bytes, header_length);
  take(bytes, prefix.raw_length);
  if (header_length < min_header || header_length > kJournalMaxHeaderBytes ||
      prefix.raw_length > kMaxRawBytes)
    return std::nullopt;
  prefix.header_length = header_length;
  return prefix;
}

// The copies of a header, from after its fixed fields; false when they do
// not fill `in` exactly.
bool take_copies(std::string_view& in, std::uint32_t count, bool with_mailbox,
                 std::vector<JournalCopy>& copies) {
  // Each copy takes at least 20 bytes: refuse a count the header cannot hold.
  if (count > in.size() / 20) return false;
  copies.resize(count);
  for (auto& c : copies) {
    if (!take(in, c.seq) || !take(in, c.mailbox) || !take_text(in, c.id) || !take_text(in, c.to))
      return false;
    if (with_mailbox && (!take_text(in, c.box.account) || !take_text(in, c.box.address) ||
                         !take_text(in, c.box.domain) || !take(in, c.box.created_at) ||
                         !take(in, c.box.expire_at) || !take_text(in, c.box.token)))
      return false;
  }
  return true;
}

void put_envelope(std::string& out, const Envelope& e) {
  put_text(out, e.mail_from);
  const auto count =
      std::min<std::size_t>(e.rcpt_to.size(), std::numeric_limits<std::uint16_t>::max());
  put(out, static_cast<std::uint16_t>(count));
  for (std::size_t i = 0; i < count; ++i) put_text(out, e.rcpt_to[i]);
  put_text(out, e.helo);
  put_text(out, e.client);
  const std::uint8_t flags = (e.tls ? 1 : 0) | (e.auth_user ? 2 : 0) | (e.injected ? 4 : 0);
  put(out, flags);
  put_text(out, e.tls ? e.tls->version : std::string_view());
  put_text(out, e.tls ? e.tls->cipher : std::string_view());
  put_text(out, e.auth_user.value_or(""));
}

bool take_envelope(std::string_view& in, Envelope& e) {
  std::uint16_t count = 0;
  if (!take_text(in, e.mail_from) || !take(in, count) || count > in.size() / 2) return false;
  e.rcpt_to.resize(count);
  for (auto& r : e.rcpt_to)
    if (!take_text(in, r)) return false;
  std::uint8_t flags = 0;
  TlsInfo tls;
  std::string user;
  if (!take_text(in, e.helo) || !take_text(in, e.client) || !take(in, flags) || flags > 7 ||
      !take_text(in, tls.version) || !take_text(in, tls.cipher) || !take_text(in, user))
    return false;
  // What a flag leaves unset must be empty, so one envelope has one encoding.
  if ((!(flags & 1) && (!tls.version.empty() || !tls.cipher.empty())) ||
      (!(flags & 2) && !user.empty()))
    return false;
  if (flags & 1) e.tls = std::move(tls);
  if (flags & 2) e.auth_user = std::move(user);
  e.injected = (flags & 4) != 0;
  return true;
}

// What stands at the start of `rest`.
struct Probe {
  // kCutOff: a header that holds, whose record the bytes end inside;
  // kShort: the bytes end inside a header, which cannot be checked.
  enum Kind { kRecord, kCutOff, kShort, kNotARecord } kind = kNotARecord;
  ScannedRecord record{};
  std::uint64_t size = 0;  ///< the record's bytes (kRecord)
};

Probe probe_v2(std::string_view rest) {
  if (rest.size() < kJournalPrefixBytes) return {.kind = Probe::kShort};
  const auto prefix = decode_prefix(rest, kFixedHeaderBytesV2);
  if (!prefix) return {};
  if (rest.size() < prefix->header_length) return {.kind = Probe::kShort};
  std::string_view header = rest.substr(0, prefix->header_length);
  std::string_view sum_bytes = header.substr(header.size() - 8);
  std::uint64_t header_sum = 0;
  take(sum_bytes, header_sum);
  if (journal_checksum(header.substr(0, header.size() - 8)) != header_sum) return {};
  Probe p;
  std::string_view in = header.substr(kJournalPrefixBytes, header.size() - kJournalPrefixBytes - 8);
  std::uint64_t raw_sum = 0;
  std::uint32_t copies = 0;
  if (!take(in, p.record.entry.received_at) || !take(in, raw_sum) || !take(in, copies) ||
      !take_copies(in, copies, true, p.record.entry.copies) ||
      !take_envelope(in, p.record.entry.envelope) || !in.empty())
    return {};
  if (rest.size() - prefix->header_length < prefix->raw_length) return {.kind = Probe::kCutOff};
  p.kind = Probe::kRecord;
  p.record.version = 2;
  p.record.raw_offset = prefix->header_length;
  p.record.raw_length = prefix->raw_length;
  p.record.raw_checksum = raw_sum;
  p.record.raw_intact =
      journal_checksum(rest.substr(prefix->header_length, prefix->raw_length)) == raw_sum;
  p.size = prefix->header_length + prefix->raw_length;
  return p;
}

Probe probe_v1(std::string_view rest) {
  if (rest.size() < kJournalPrefixBytes) return {.kind = Probe::kShort};
  const auto prefix = decode_prefix(rest, kFixedHeaderBytesV1);
  if (!prefix) return {};
  if (rest.size() < prefix->header_length) return {.kind = Probe::kShort};
  Probe p;
  std::string_view in =
      rest.substr(kJournalPrefixBytes, prefix->header_length - kJournalPrefixBytes);
  std::uint32_t copies = 0;
  if (!take(in, p.record.entry.received_at) || !take(in, copies) ||
      !take_copies(in, copies, false, p.record.entry.copies) || !in.empty())
    return {};
  const std::uint64_t body = prefix->header_length + prefix->raw_length;
  if (rest.size() < body || rest.size() - body < kTrailerBytesV1) return {.kind = Probe::kCutOff};
  std::string_view trailer = rest.substr(body, kTrailerBytesV1);
  std::uint64_t length = 0;
  take(trailer, length);
  if (length != body || trailer != kTrailerMagicV1) return {};
  p.kind = Probe::kRecord;
  p.record.version = 1;
  p.record.raw_offset = prefix->header_length;
  p.record.raw_length = prefix->raw_length;
  p.size = body + kTrailerBytesV1;
  return p;
}

// After damage only a version-2 record counts: its header checksum says it
// is one, where a version-1 record has none to tell it from damaged bytes.
Probe probe(std::string_view rest, bool after_damage) {
  if (rest.starts_with(kMagicV2)) return probe_v2(rest);
  if (rest.starts_with(kMagicV1) && !after_damage) return probe_v1(rest);
  // The first bytes of a magic, at the very end: a header cut off.
  if (rest.size() < 4 && (kMagicV2.starts_with(rest) || kMagicV1.starts_with(rest)))
    return {.kind = Probe::kShort};
  return {};
}

// Where the next record could start after `at`.
std::size_t next_magic(std::string_view bytes, std::size_t at) { return bytes.find("TMJ", at + 1); }

// True when a version-2 record starts somewhere after `at`.
bool record_after(std::string_view bytes, std::size_t at) {
  for (auto next = next_magic(bytes, at); next != std::string_view::npos;
       next = next_magic(bytes, next))
    if (probe(bytes.substr(next), true).kind == Probe::kRecord) return true;
  return false;
}

}  // namespace

std::uint64_t journal_checksum(std::string_view bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

std::string encode_journal_header(const JournalEntry& entry, std::string_view raw) {
  return encode_journal_header(entry, raw.size(), journal_checksum(raw));
}

std::string encode_journal_header(const JournalEntry& entry, std::uint64_t raw_length,
                                  std::uint64_t raw_checksum) {
  std::string out;
  out.reserve(kFixedHeaderBytesV2 + entry.copies.size() * 256);
  out.append(kMagicV2);
  put(out, std::uint32_t{0});  // the header's length, sealed below
  put(out, raw_length);
  put(out, entry.received_at);
  put(out, raw_checksum);
  put(out, static_cast<std::uint32_t>(entry.copies.size()));
  for (const auto& c : entry.copies) {
    put_copy_row(out, c);
    put_text(out, c.box.account);
    put_text(out, c.box.address);
    put_text(out, c.box.domain);
    put(out, c.box.created_at);
    put(out, c.box.expire_at);
    put_text(out, c.box.token);
  }
  put_envelope(out, entry.envelope);
  out.append(8, '\0');  // the header checksum's place, counted in the length
  seal_length(out);
  out.resize(out.size() - 8);
  put(out, journal_checksum(out));
  return out;
}

std::string encode_envelope(const Envelope& envelope) {
  std::string out;
  put_envelope(out, envelope);
  return out;
}

std::optional<Envelope> decode_envelope(std::string_view bytes) {
  Envelope e;
  if (!take_envelope(bytes, e) || !bytes.empty()) return std::nullopt;
  return e;
}

std::string encode_journal_v1_record(const JournalEntry& entry, std::string_view raw) {
  std::string out;
  out.append(kMagicV1);
  put(out, std::uint32_t{0});
  put(out, static_cast<std::uint64_t>(raw.size()));
  put(out, entry.received_at);
  put(out, static_cast<std::uint32_t>(entry.copies.size()));
  for (const auto& c : entry.copies) put_copy_row(out, c);
  seal_length(out);
  const std::uint64_t header_length = out.size();
  out.append(raw);
  put(out, header_length + raw.size());
  out.append(kTrailerMagicV1);
  return out;
}

JournalScan scan_journal(std::string_view bytes) {
  JournalScan scan;
  std::uint64_t at = 0;
  // The start of a stretch that is not a record, while in one.
  std::optional<std::uint64_t> damaged_from;
  auto close_damage = [&](std::uint64_t end, bool followed) {
    if (!damaged_from) return;
    scan.damaged.push_back(DamagedRange{
        .offset = *damaged_from, .length = end - *damaged_from, .followed_by_records = followed});
    damaged_from.reset();
  };
  while (at < bytes.size()) {
    Probe p = probe(bytes.substr(at), damaged_from.has_value());
    if (p.kind == Probe::kRecord) {
      close_damage(at, true);
      p.record.offset = at;
      p.record.raw_offset += at;
      scan.records.push_back(std::move(p.record));
      at += p.size;
      continue;
    }
    // A header that ends the bytes is a cut-off write only when no record
    // follows it: damage can make anything look like the start of one.
    if (p.kind == Probe::kCutOff || (p.kind == Probe::kShort && !record_after(bytes, at))) {
      close_damage(at, false);
      scan.cut_off_bytes = bytes.size() - at;
      return scan;
    }
    // Not a record: look for the next record's magic; a header checksum
    // decides whether it starts one.
    if (!damaged_from) damaged_from = at;
    const auto next = next_magic(bytes, at);
    if (next == std::string_view::npos) break;
    at = next;
  }
  close_damage(bytes.size(), false);
  return scan;
}

}  // namespace tempmail::local::detail
