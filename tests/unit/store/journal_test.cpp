// The raw log's journal records: what a crash leaves of one must never be
// read as a delivery, a whole one gives back every row (and mailbox) it was
// written with, and damage in the middle of a segment loses only what it hit.
#include "local/store/journal.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace tempmail::local::detail {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

JournalMailbox box(std::string address) {
  return JournalMailbox{.account = std::string(64, 'a'),
                        .address = std::move(address),
                        .domain = "x.test",
                        .created_at = 1782639000,
                        .expire_at = 1782639600,
                        .token = std::string(40, 't')};
}

JournalEntry two_copies() {
  return JournalEntry{
      .received_at = 1782639548,
      .copies =
          {JournalCopy{
               .seq = 7, .mailbox = 3, .id = "abc", .to = "a@x.test", .box = box("a@x.test")},
           JournalCopy{
               .seq = 8, .mailbox = 4, .id = "def", .to = "b@x.test", .box = box("b@x.test")}},
      .envelope = Envelope{.mail_from = "app@myapp.test",
                           .rcpt_to = {"a@x.test", "b@x.test", "bcc@y.test"},
                           .helo = "app.myapp.test",
                           .client = "127.0.0.1:50123",
                           .tls = TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256"},
                           .auth_user = "app",
                           .injected = false}};
}

std::string record(const JournalEntry& entry, const std::string& raw) {
  return encode_journal_header(entry, raw) + raw;
}

// Records "m0".."m{n-1}", each to one mailbox, back to back.
std::string records(int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += record(JournalEntry{.received_at = i,
                               .copies = {JournalCopy{.seq = i + 1,
                                                      .mailbox = 1,
                                                      .id = "id" + std::to_string(i),
                                                      .to = "a@x.test",
                                                      .box = box("a@x.test")}}},
                  "Subject: m" + std::to_string(i) + "\r\n\r\nbody\r\n");
  return out;
}

std::vector<std::int64_t> seqs(const JournalScan& scan) {
  std::vector<std::int64_t> out;
  for (const auto& r : scan.records)
    for (const auto& c : r.entry.copies) out.push_back(c.seq);
  return out;
}

TEST(JournalRecord, GivesBackEveryRowAndMailboxItWasWrittenWith) {
  const std::string raw = "Subject: hi\r\n\r\nbody\r\n";
  const std::string bytes = record(two_copies(), raw);
  const JournalScan scan = scan_journal(bytes);
  ASSERT_THAT(scan.records, SizeIs(1));
  const ScannedRecord& r = scan.records[0];
  EXPECT_EQ(r.entry, two_copies());
  EXPECT_EQ(r.version, 2);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(bytes.substr(r.raw_offset, r.raw_length), raw);
  EXPECT_EQ(r.raw_checksum, journal_checksum(raw));
  EXPECT_TRUE(r.raw_intact);
  EXPECT_TRUE(scan.damaged.empty());
  EXPECT_EQ(scan.cut_off_bytes, 0u);
}

TEST(JournalRecord, ADeliveryToNoMailboxAndEmptyFieldsRoundTrip) {
  const JournalEntry empty{.received_at = -5, .copies = {}};
  const JournalEntry blank{.received_at = 0, .copies = {JournalCopy{}}};
  const JournalScan scan = scan_journal(record(empty, "") + record(blank, ""));
  ASSERT_THAT(scan.records, SizeIs(2));
  EXPECT_EQ(scan.records[0].entry, empty);
  EXPECT_EQ(scan.records[1].entry, blank);
}

TEST(JournalEnvelope, RoundTripsAndHasOneEncoding) {
  const Envelope full = two_copies().envelope;
  EXPECT_EQ(decode_envelope(encode_envelope(full)), full);
  const Envelope injected{.rcpt_to = {"a@x.test"}, .injected = true};
  EXPECT_EQ(decode_envelope(encode_envelope(injected)), injected);
  EXPECT_EQ(decode_envelope(encode_envelope(Envelope{})), Envelope{});
  const std::string bytes = encode_envelope(full);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut)
    EXPECT_FALSE(decode_envelope(bytes.substr(0, cut))) << "cut at " << cut;
  EXPECT_FALSE(decode_envelope(bytes + "x"));
  // A user name with the auth flag cleared is not a second spelling of "no user".
  std::string no_flag = encode_envelope(Envelope{.auth_user = "app"});
  const auto flags_at = no_flag.size() - 2 - 2 - 2 - 3 - 1;  // before 2 empty texts and "app"
  ASSERT_EQ(no_flag[flags_at], '\x02');
  no_flag[flags_at] = '\0';
  EXPECT_FALSE(decode_envelope(no_flag));
}

TEST(JournalScan, ReadsRecordsBackToBackAndStopsAtACutOffOne) {
  const std::string first = record(two_copies(), "first raw");
  const std::string second = record(JournalEntry{.received_at = 1, .copies = {JournalCopy{}}}, "");
  const std::string third = record(two_copies(), "third raw");
  const std::string bytes = first + second + third;
  const JournalScan all = scan_journal(bytes);
  ASSERT_EQ(all.records.size(), 3u);
  EXPECT_EQ(all.records[1].offset, first.size());
  EXPECT_EQ(bytes.substr(all.records[2].raw_offset, all.records[2].raw_length), "third raw");
  // Every cut inside the third record leaves the first two, and the rest is
  // a write cut off by a crash, not damage.
  for (std::size_t cut = first.size() + second.size() + 1; cut < bytes.size(); ++cut) {
    const JournalScan part = scan_journal(std::string_view(bytes).substr(0, cut));
    EXPECT_EQ(part.records.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(part.cut_off_bytes, cut - first.size() - second.size()) << "cut at " << cut;
    EXPECT_TRUE(part.damaged.empty()) << "cut at " << cut;
  }
}

TEST(JournalScan, ZerosAfterTheRecordsAreNotARecord) {
  const JournalScan scan = scan_journal(records(1) + std::string(100, '\0'));
  EXPECT_THAT(scan.records, SizeIs(1));
  ASSERT_THAT(scan.damaged, SizeIs(1));
  EXPECT_EQ(scan.damaged[0].length, 100u);
  EXPECT_FALSE(scan.damaged[0].followed_by_records);
}

// The case: 100 acknowledged messages and 64 garbage bytes in the
// middle. Only the record the garbage hit is lost, and the scan says the
// bytes it skipped had been acknowledged (good records follow them).
TEST(JournalScan, GarbageInTheMiddleLosesOnlyTheRecordItHits) {
  std::string bytes = records(100);
  const std::size_t middle = scan_journal(bytes).records[50].offset + 10;
  for (std::size_t i = 0; i < 64; ++i) bytes[middle + i] = static_cast<char>(0xA5 ^ i);
  const JournalScan scan = scan_journal(bytes);
  EXPECT_THAT(scan.records, SizeIs(99));
  EXPECT_EQ(seqs(scan)[49], 50);
  EXPECT_EQ(seqs(scan)[50], 52);  // the 51st is the one hit
  ASSERT_THAT(scan.damaged, SizeIs(1));
  EXPECT_TRUE(scan.damaged[0].followed_by_records);
  EXPECT_EQ(scan.cut_off_bytes, 0u);
}

TEST(JournalScan, BytesInsertedBetweenRecordsLoseNothing) {
  const std::string one = records(3);
  const std::string bytes = one + "garbage with TMJ2 and TMJ1 in it" + records(2);
  const JournalScan scan = scan_journal(bytes);
  EXPECT_THAT(scan.records, SizeIs(5));
  ASSERT_THAT(scan.damaged, SizeIs(1));
  EXPECT_EQ(scan.damaged[0].offset, one.size());
  EXPECT_TRUE(scan.damaged[0].followed_by_records);
}

// A record whose header holds but whose text changed is still read (its
// rows are known) and marked damaged, so that its text is never served.
TEST(JournalScan, AChangedRawTextIsReadAndMarkedDamaged) {
  std::string bytes = records(3);
  const JournalScan before = scan_journal(bytes);
  bytes[before.records[1].raw_offset + 2] ^= 0x20;
  const JournalScan scan = scan_journal(bytes);
  ASSERT_THAT(scan.records, SizeIs(3));
  EXPECT_TRUE(scan.records[0].raw_intact);
  EXPECT_FALSE(scan.records[1].raw_intact);
  EXPECT_TRUE(scan.records[2].raw_intact);
  EXPECT_TRUE(scan.damaged.empty());
}

TEST(JournalScan, AChangedHeaderByteIsDamageNotADifferentRow) {
  std::string bytes = records(3);
  const JournalScan before = scan_journal(bytes);
  // The second record's seq: a flip there must not move the message.
  bytes[before.records[1].offset + 36] ^= 0x01;
  const JournalScan scan = scan_journal(bytes);
  EXPECT_THAT(seqs(scan), ElementsAre(1, 3));
  ASSERT_THAT(scan.damaged, SizeIs(1));
  EXPECT_EQ(scan.damaged[0].offset, before.records[1].offset);
  EXPECT_EQ(scan.damaged[0].length, before.records[2].offset - before.records[1].offset);
}

// Only records the store wrote are read: one written inside a message's
// text (anyone can mail those bytes) is part of that text.
TEST(JournalScan, NeverReadsARecordInsideARawText) {
  const std::string inner = record(two_copies(), "spoofed");
  const JournalScan scan = scan_journal(records(1) + record(two_copies(), inner));
  ASSERT_THAT(scan.records, SizeIs(2));
  EXPECT_EQ(scan.records[1].raw_length, inner.size());
}

TEST(JournalScan, ReadsVersionOneRecordsBesideVersionTwo) {
  JournalEntry old = two_copies();
  for (auto& c : old.copies) c.box = {};
  old.envelope = {};  // neither mailboxes nor envelopes in version 1
  const std::string v1 = encode_journal_v1_record(old, "old raw");
  const JournalScan scan = scan_journal(v1 + records(1) + v1);
  ASSERT_THAT(scan.records, SizeIs(3));
  EXPECT_EQ(scan.records[0].version, 1);
  EXPECT_EQ(scan.records[0].entry, old);
  EXPECT_FALSE(scan.records[0].raw_checksum);
  EXPECT_EQ(scan.records[1].version, 2);
  EXPECT_EQ(scan.records[2].entry, old);
  // A version-1 record cut off at the end is a cut-off write as before.
  const JournalScan cut = scan_journal(v1.substr(0, v1.size() - 3));
  EXPECT_TRUE(cut.records.empty());
  EXPECT_EQ(cut.cut_off_bytes, v1.size() - 3);
}

// Found by the journal_recovery fuzz target: damage that makes a header
// announce more bytes than are left looked like a write cut off at the end,
// and the scan stopped there, losing the good records after it.
TEST(JournalScan, DamageThatLooksLikeACutOffHeaderDoesNotHideTheRecordsAfterIt) {
  std::string bytes = records(5);
  const auto scan_before = scan_journal(bytes);
  std::string fake_prefix = "TMJ2";
  fake_prefix += std::string("\x00\x00\x0f\x00", 4);  // a 983,040-byte header
  bytes.replace(scan_before.records[2].offset + 1, fake_prefix.size(), fake_prefix);
  const JournalScan scan = scan_journal(bytes);
  EXPECT_THAT(seqs(scan), ElementsAre(1, 2, 4, 5));
  EXPECT_EQ(scan.cut_off_bytes, 0u);
  ASSERT_THAT(scan.damaged, SizeIs(1));
  EXPECT_TRUE(scan.damaged[0].followed_by_records);
}

TEST(JournalScan, TheFirstBytesOfAMagicAtTheEndAreACutOffWrite) {
  const JournalScan scan = scan_journal(records(1) + "TM");
  EXPECT_THAT(scan.records, SizeIs(1));
  EXPECT_EQ(scan.cut_off_bytes, 2u);
  EXPECT_TRUE(scan.damaged.empty());
}

}  // namespace
}  // namespace tempmail::local::detail
