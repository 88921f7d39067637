// Raw log segments -> tempmail::local::detail::scan_journal, as the store
// reads them after a crash or after the disk damaged them. Besides crashes:
// records, damaged stretches and the cut-off tail lie in order without
// overlapping, within the input; each record is exactly what encoding its
// fields again gives (so nothing but a record the store wrote is ever read as
// one, and a changed byte never becomes a different row); a record reported
// intact has its checksum.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "local/store/journal.hpp"

namespace journal = tempmail::local::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const journal::JournalScan scan = journal::scan_journal(bytes);
  // Records and damaged stretches, merged in order of offset.
  std::uint64_t at = 0;
  std::size_t d = 0;
  auto take_damage_before = [&](std::uint64_t limit) {
    while (d < scan.damaged.size() && scan.damaged[d].offset < limit) {
      TEMPMAIL_FUZZ_CHECK(scan.damaged[d].offset == at);
      TEMPMAIL_FUZZ_CHECK(scan.damaged[d].length > 0);
      at += scan.damaged[d].length;
      ++d;
    }
  };
  for (const auto& r : scan.records) {
    take_damage_before(r.offset);
    TEMPMAIL_FUZZ_CHECK(r.offset == at);
    const std::string_view raw = bytes.substr(r.raw_offset, r.raw_length);
    TEMPMAIL_FUZZ_CHECK(raw.size() == r.raw_length);
    if (r.version == 2) {
      TEMPMAIL_FUZZ_CHECK(r.raw_checksum.has_value());
      const std::string header =
          journal::encode_journal_header(r.entry, r.raw_length, *r.raw_checksum);
      TEMPMAIL_FUZZ_CHECK(r.raw_offset == r.offset + header.size());
      TEMPMAIL_FUZZ_CHECK(bytes.substr(r.offset, header.size()) == header);
      TEMPMAIL_FUZZ_CHECK(r.raw_intact == (journal::journal_checksum(raw) == *r.raw_checksum));
      at = r.raw_offset + r.raw_length;
    } else {
      const std::string whole = journal::encode_journal_v1_record(r.entry, raw);
      TEMPMAIL_FUZZ_CHECK(bytes.substr(r.offset, whole.size()) == whole);
      at = r.offset + whole.size();
    }
  }
  take_damage_before(bytes.size() + 1);
  TEMPMAIL_FUZZ_CHECK(d == scan.damaged.size());
  TEMPMAIL_FUZZ_CHECK(at + scan.cut_off_bytes == bytes.size());
  return 0;
}
