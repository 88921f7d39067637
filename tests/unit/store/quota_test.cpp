// The quota book alone: counting per account per calendar month (UTC), and
// which counts the writer has still to flush.
#include "local/store/quota.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "common/time.hpp"

namespace tempmail::local::detail {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// 2026-06-28T09:39:08Z and three days later, in July.
const std::chrono::sys_seconds kJune{std::chrono::seconds{1782639548}};
const std::chrono::sys_seconds kJuly = kJune + std::chrono::days{3};

TEST(QuotaBook, CountsCallsPerAccountAgainstTheLimit) {
  QuotaBook book(3);
  book.count("alice", kJune);
  const QuotaState after = book.count("alice", kJune);
  EXPECT_EQ(after.used, 2);
  EXPECT_EQ(after.limit, 3);
  EXPECT_EQ(after.remaining(), 1);
  EXPECT_FALSE(after.exhausted());
  EXPECT_EQ(book.state("bob", kJune).used, 0);
  EXPECT_TRUE(book.count("alice", kJune).exhausted());
  EXPECT_EQ(book.count("alice", kJune).remaining(), 0);  // past the limit: still counted
  EXPECT_EQ(book.state("alice", kJune).used, 4);
}

TEST(QuotaBook, ResetsAtTheStartOfTheNextMonthUtc) {
  QuotaBook book(5);
  book.count("alice", kJune);
  EXPECT_EQ(tempmail::detail::format_iso8601(book.state("alice", kJune).reset),
            "2026-07-01T00:00:00+00:00");
  EXPECT_EQ(book.state("alice", kJuly).used, 0);
  EXPECT_EQ(book.count("alice", kJuly).used, 1);
  EXPECT_EQ(tempmail::detail::format_iso8601(book.state("alice", kJuly).reset),
            "2026-08-01T00:00:00+00:00");
}

TEST(QuotaBook, NamesTheMonthACallCountsIn) {
  EXPECT_EQ(QuotaBook::month_of(kJune), "2026-06");
  EXPECT_EQ(QuotaBook::month_of(kJuly), "2026-07");
}

TEST(QuotaBook, LoadedCountsGoOnAndAreNotDirty) {
  QuotaBook book(10);
  book.load(QuotaRow{.account = "alice", .month = "2026-06", .used = 7});
  EXPECT_FALSE(book.dirty());
  EXPECT_THAT(book.take_dirty(), IsEmpty());
  EXPECT_EQ(book.state("alice", kJune).used, 7);
  EXPECT_EQ(book.count("alice", kJune).used, 8);
  // A count loaded for another month does not carry into this one.
  book.load(QuotaRow{.account = "bob", .month = "2026-05", .used = 9});
  EXPECT_EQ(book.state("bob", kJune).used, 0);
}

TEST(QuotaBook, TakeDirtyGivesEachChangedCountOnce) {
  QuotaBook book(10);
  book.count("alice", kJune);
  book.count("alice", kJune);
  book.count("bob", kJune);
  EXPECT_TRUE(book.dirty());
  EXPECT_THAT(book.take_dirty(),
              UnorderedElementsAre(QuotaRow{.account = "alice", .month = "2026-06", .used = 2},
                                   QuotaRow{.account = "bob", .month = "2026-06", .used = 1}));
  EXPECT_FALSE(book.dirty());
  EXPECT_THAT(book.take_dirty(), IsEmpty());
  book.count("bob", kJune);
  EXPECT_THAT(book.take_dirty(),
              UnorderedElementsAre(QuotaRow{.account = "bob", .month = "2026-06", .used = 2}));
}

TEST(QuotaBook, RowsWhoseWriteFailedAreGivenAgainWithTheirLatestCount) {
  QuotaBook book(10);
  book.count("alice", kJune);
  book.count("bob", kJune);
  const auto rows = book.take_dirty();
  book.count("alice", kJune);  // while the write was failing
  book.restore_dirty(rows);
  EXPECT_TRUE(book.dirty());
  EXPECT_THAT(book.take_dirty(),
              UnorderedElementsAre(QuotaRow{.account = "alice", .month = "2026-06", .used = 2},
                                   QuotaRow{.account = "bob", .month = "2026-06", .used = 1}));
  book.restore_dirty({});
  EXPECT_FALSE(book.dirty());
}

TEST(QuotaBook, RefusesANegativeLimitNamingTheOption) {
  try {
    QuotaBook book(-1);
    FAIL() << "a negative limit was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("StoreOptions::monthly_quota"));
  }
  EXPECT_EQ(QuotaBook(0).state("alice", kJune).exhausted(), true);
}

}  // namespace
}  // namespace tempmail::local::detail
