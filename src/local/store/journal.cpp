#include "local/store/journal.hpp"

#include <limits>

namespace tempmail::local::detail {
namespace {

constexpr std::string_view kMagic = "TMJ1";
constexpr std::string_view kTrailerMagic = "1JMT";
// magic, header length, raw length, received_at, copies
constexpr std::size_t kFixedHeaderBytes = 4 + 4 + 8 + 8 + 4;

template <class T>
void put(std::string& out, T value) {
  auto u = static_cast<std::make_unsigned_t<T>>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
}

void put_text(std::string& out, std::string_view text) {
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

}  // namespace

std::string encode_journal_header(const JournalEntry& entry, std::uint64_t raw_length) {
  std::string out;
  out.reserve(kFixedHeaderBytes + entry.copies.size() * 96);
  out.append(kMagic);
  put(out, std::uint32_t{0});  // the header's length, filled in below
  put(out, raw_length);
  put(out, entry.received_at);
  put(out, static_cast<std::uint32_t>(entry.copies.size()));
  for (const auto& c : entry.copies) {
    put(out, c.seq);
    put(out, c.mailbox);
    put_text(out, std::string_view(c.id).substr(0, std::numeric_limits<std::uint16_t>::max()));
    put_text(out, std::string_view(c.to).substr(0, std::numeric_limits<std::uint16_t>::max()));
  }
  std::string length;
  put(length, static_cast<std::uint32_t>(out.size()));
  out.replace(4, 4, length);
  return out;
}

std::string encode_journal_trailer(std::uint64_t header_length, std::uint64_t raw_length) {
  std::string out;
  put(out, header_length + raw_length);
  out.append(kTrailerMagic);
  return out;
}

std::optional<JournalPrefix> decode_journal_prefix(std::string_view bytes) {
  if (bytes.size() < kJournalPrefixBytes || !bytes.starts_with(kMagic)) return std::nullopt;
  bytes.remove_prefix(kMagic.size());
  std::uint32_t header_length = 0;
  JournalPrefix prefix;
  take(bytes, header_length);
  take(bytes, prefix.raw_length);
  if (header_length < kFixedHeaderBytes || header_length > kJournalMaxHeaderBytes)
    return std::nullopt;
  // A raw text the SMTP limits could never let in is not a length we wrote.
  if (prefix.raw_length > (std::uint64_t{1} << 40)) return std::nullopt;
  prefix.header_length = header_length;
  return prefix;
}

std::optional<JournalEntry> decode_journal_header(std::string_view bytes) {
  auto prefix = decode_journal_prefix(bytes);
  if (!prefix || prefix->header_length != bytes.size()) return std::nullopt;
  bytes.remove_prefix(kJournalPrefixBytes);
  JournalEntry entry;
  std::uint32_t copies = 0;
  if (!take(bytes, entry.received_at) || !take(bytes, copies)) return std::nullopt;
  // Each copy takes at least 20 bytes: refuse a count the header cannot hold.
  if (copies > bytes.size() / 20) return std::nullopt;
  entry.copies.resize(copies);
  for (auto& c : entry.copies)
    if (!take(bytes, c.seq) || !take(bytes, c.mailbox) || !take_text(bytes, c.id) ||
        !take_text(bytes, c.to))
      return std::nullopt;
  if (!bytes.empty()) return std::nullopt;
  return entry;
}

bool valid_journal_trailer(std::string_view bytes, const JournalPrefix& prefix) {
  std::uint64_t length = 0;
  if (bytes.size() != kJournalTrailerBytes || !take(bytes, length)) return false;
  return length == prefix.header_length + prefix.raw_length && bytes == kTrailerMagic;
}

JournalScan scan_journal(std::string_view bytes) {
  JournalScan scan;
  while (bytes.size() - scan.end >= kJournalPrefixBytes) {
    const std::string_view rest = bytes.substr(scan.end);
    const auto prefix = decode_journal_prefix(rest.substr(0, kJournalPrefixBytes));
    if (!prefix) break;
    const std::uint64_t body = prefix->header_length + prefix->raw_length;
    if (body > rest.size() || rest.size() - body < kJournalTrailerBytes) break;
    auto entry = decode_journal_header(rest.substr(0, prefix->header_length));
    if (!entry || !valid_journal_trailer(rest.substr(body, kJournalTrailerBytes), *prefix)) break;
    scan.records.push_back(ScannedRecord{.entry = std::move(*entry),
                                         .offset = scan.end,
                                         .raw_offset = scan.end + prefix->header_length,
                                         .raw_length = prefix->raw_length});
    scan.end += body + kJournalTrailerBytes;
  }
  return scan;
}

}  // namespace tempmail::local::detail
