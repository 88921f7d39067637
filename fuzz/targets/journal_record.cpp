// Raw log segments -> tempmail::local::detail::scan_journal, as the store
// reads them after a crash. Besides crashes: the scan stops within the
// input, its records lie back to back from the start, and each one is
// exactly what encoding its fields again gives (so nothing but a record the
// store wrote is ever read as one).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "local/store/journal.hpp"

namespace journal = tempmail::local::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const journal::JournalScan scan = journal::scan_journal(bytes);
  TEMPMAIL_FUZZ_CHECK(scan.end <= bytes.size());
  std::uint64_t at = 0;
  for (const auto& r : scan.records) {
    TEMPMAIL_FUZZ_CHECK(r.offset == at);
    const std::string header = journal::encode_journal_header(r.entry, r.raw_length);
    TEMPMAIL_FUZZ_CHECK(r.raw_offset == r.offset + header.size());
    TEMPMAIL_FUZZ_CHECK(bytes.substr(r.offset, header.size()) == header);
    const std::string trailer = journal::encode_journal_trailer(header.size(), r.raw_length);
    TEMPMAIL_FUZZ_CHECK(bytes.substr(r.raw_offset + r.raw_length, trailer.size()) == trailer);
    at = r.raw_offset + r.raw_length + trailer.size();
  }
  TEMPMAIL_FUZZ_CHECK(at == scan.end);
  return 0;
}
