// Damage in the middle of a raw log segment loses only what it hits. The
// input picks how many records a segment holds and which of its bytes the
// disk changed (pairs of a 16-bit offset and a byte); recovery's scan must
// then still give back, unchanged, every record none of whose bytes changed,
// report every changed byte outside such records as damaged or cut off, and
// never read a record that is not exactly one the store wrote.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "check.hpp"
#include "local/store/journal.hpp"

namespace journal = tempmail::local::detail;

namespace {

journal::JournalEntry entry(int i) {
  const std::string to = "user" + std::to_string(i % 3) + "@example.com";
  return journal::JournalEntry{
      .received_at = 1782639000 + i,
      .copies = {journal::JournalCopy{.seq = i + 1,
                                      .mailbox = 1 + i % 3,
                                      .id = "id" + std::to_string(i),
                                      .to = to,
                                      .box = {.account = std::string(64, 'f'),
                                              .address = to,
                                              .domain = "example.com",
                                              .created_at = 1782638000,
                                              .expire_at = 1782639600,
                                              .token = std::string(40, 'k')}}}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int count = 1 + data[0] % 24;
  std::string bytes;
  struct Span {
    std::size_t begin, end;
  };
  std::vector<Span> spans;
  for (int i = 0; i < count; ++i) {
    const std::string raw = "Subject: " + std::string(static_cast<std::size_t>(i * 7 % 50), 'x') +
                            "\r\n\r\nbody " + std::to_string(i) + "\r\n";
    const std::size_t begin = bytes.size();
    bytes += journal::encode_journal_header(entry(i), raw) + raw;
    spans.push_back({begin, bytes.size()});
  }
  std::set<std::size_t> changed;
  for (std::size_t k = 1; k + 2 < size; k += 3) {
    const std::size_t at = (static_cast<std::size_t>(data[k]) << 8 | data[k + 1]) % bytes.size();
    const char value = static_cast<char>(data[k + 2]);
    if (bytes[at] != value) changed.insert(at);
    bytes[at] = value;
  }
  const journal::JournalScan scan = journal::scan_journal(bytes);
  std::set<std::int64_t> found, intact;
  for (const auto& r : scan.records) {
    TEMPMAIL_FUZZ_CHECK(r.version == 2);
    TEMPMAIL_FUZZ_CHECK(r.entry.copies.size() == 1);
    const std::int64_t seq = r.entry.copies[0].seq;
    TEMPMAIL_FUZZ_CHECK(seq >= 1 && seq <= count);
    const Span& s = spans[static_cast<std::size_t>(seq - 1)];
    // Found where it was written, with the rows it was written with.
    TEMPMAIL_FUZZ_CHECK(r.offset == s.begin);
    TEMPMAIL_FUZZ_CHECK(r.entry == entry(static_cast<int>(seq - 1)));
    TEMPMAIL_FUZZ_CHECK(r.raw_offset + r.raw_length == s.end);
    found.insert(seq);
    if (r.raw_intact) intact.insert(seq);
  }
  for (int i = 0; i < count; ++i) {
    const Span& s = spans[static_cast<std::size_t>(i)];
    const auto hit = changed.lower_bound(s.begin);
    const bool untouched = hit == changed.end() || *hit >= s.end;
    if (untouched) TEMPMAIL_FUZZ_CHECK(found.contains(i + 1) && intact.contains(i + 1));
  }
  return 0;
}
