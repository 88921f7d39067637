// The raw log's journal records: what a crash leaves of one must never be
// read as a delivery, and a whole one gives back every row it was written with.
#include "local/store/journal.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace tempmail::local::detail {
namespace {

JournalEntry two_copies() {
  return JournalEntry{.received_at = 1782639548,
                      .copies = {JournalCopy{.seq = 7, .mailbox = 3, .id = "abc", .to = "a@x.test"},
                                 JournalCopy{.seq = 8, .mailbox = 4, .id = "def", .to = "b@x.test"}}};
}

std::string record(const JournalEntry& entry, const std::string& raw) {
  const std::string header = encode_journal_header(entry, raw.size());
  return header + raw + encode_journal_trailer(header.size(), raw.size());
}

TEST(JournalRecord, DecodesWhatWasEncoded) {
  const std::string raw = "Subject: hi\r\n\r\nbody\r\n";
  const std::string header = encode_journal_header(two_copies(), raw.size());
  const auto prefix = decode_journal_prefix(header.substr(0, kJournalPrefixBytes));
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->header_length, header.size());
  EXPECT_EQ(prefix->raw_length, raw.size());
  EXPECT_EQ(decode_journal_header(header), two_copies());
  EXPECT_TRUE(valid_journal_trailer(encode_journal_trailer(header.size(), raw.size()), *prefix));
}

TEST(JournalRecord, ADeliveryToNoMailboxAndEmptyFieldsRoundTrip) {
  const JournalEntry empty{.received_at = -5, .copies = {}};
  EXPECT_EQ(decode_journal_header(encode_journal_header(empty, 0)), empty);
  const JournalEntry blank{.received_at = 0, .copies = {JournalCopy{}}};
  EXPECT_EQ(decode_journal_header(encode_journal_header(blank, 0)), blank);
}

TEST(JournalRecord, RejectsAnythingButAHeaderPrefix) {
  const std::string header = encode_journal_header(two_copies(), 10);
  EXPECT_FALSE(decode_journal_prefix(header.substr(0, kJournalPrefixBytes - 1)));
  EXPECT_FALSE(decode_journal_prefix(std::string(kJournalPrefixBytes, '\0')));  // zeros
  std::string wrong_magic = header;
  wrong_magic[0] = 'X';
  EXPECT_FALSE(decode_journal_prefix(wrong_magic));
  std::string huge_header = header;
  huge_header[7] = '\x7f';  // header length ~2 GB
  EXPECT_FALSE(decode_journal_prefix(huge_header));
  std::string huge_raw = header;
  huge_raw[15] = '\x7f';  // raw length ~2^62
  EXPECT_FALSE(decode_journal_prefix(huge_raw));
}

TEST(JournalRecord, RejectsACutOrPaddedHeader) {
  const std::string header = encode_journal_header(two_copies(), 10);
  for (std::size_t cut = 0; cut < header.size(); ++cut)
    EXPECT_FALSE(decode_journal_header(header.substr(0, cut))) << "cut at " << cut;
  EXPECT_FALSE(decode_journal_header(header + '\0'));
  // A copy count the header cannot hold.
  std::string lying = header;
  lying[24] = '\xff';
  lying[25] = '\xff';
  EXPECT_FALSE(decode_journal_header(lying));
}

TEST(JournalRecord, ATrailerMustMatchItsRecord) {
  const std::string raw = "x";
  const std::string full = record(two_copies(), raw);
  const auto prefix = decode_journal_prefix(full);
  ASSERT_TRUE(prefix);
  const std::string trailer = full.substr(full.size() - kJournalTrailerBytes);
  EXPECT_TRUE(valid_journal_trailer(trailer, *prefix));
  EXPECT_FALSE(valid_journal_trailer(trailer.substr(1), *prefix));
  EXPECT_FALSE(valid_journal_trailer(std::string(kJournalTrailerBytes, '\0'), *prefix));
  EXPECT_FALSE(valid_journal_trailer(encode_journal_trailer(prefix->header_length, 2), *prefix));
}

TEST(JournalScan, ReadsRecordsBackToBackAndStopsAtACutOffOne) {
  const std::string first = record(two_copies(), "first raw");
  const std::string second = record(JournalEntry{.received_at = 1, .copies = {JournalCopy{}}}, "");
  const std::string third = record(two_copies(), "third raw");
  const std::string bytes = first + second + third;
  const JournalScan all = scan_journal(bytes);
  ASSERT_EQ(all.records.size(), 3u);
  EXPECT_EQ(all.end, bytes.size());
  EXPECT_EQ(all.records[1].offset, first.size());
  EXPECT_EQ(bytes.substr(all.records[0].raw_offset, all.records[0].raw_length), "first raw");
  EXPECT_EQ(bytes.substr(all.records[2].raw_offset, all.records[2].raw_length), "third raw");
  EXPECT_EQ(all.records[2].entry, two_copies());
  // Every cut inside the third record leaves the first two, and says where they end.
  for (std::size_t cut = first.size() + second.size(); cut < bytes.size(); ++cut) {
    const JournalScan part = scan_journal(std::string_view(bytes).substr(0, cut));
    EXPECT_EQ(part.records.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(part.end, first.size() + second.size()) << "cut at " << cut;
  }
  // Zeros after the records (a file extended but not written) are not a record.
  EXPECT_EQ(scan_journal(first + std::string(100, '\0')).records.size(), 1u);
}

}  // namespace
}  // namespace tempmail::local::detail
