#include "common/time.hpp"

#include <gtest/gtest.h>

namespace tempmail::detail {
namespace {

using namespace std::chrono;

constexpr sys_seconds at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

TEST(Iso8601, ParsesAnOffsetIntoUtc) {
  EXPECT_EQ(parse_iso8601("2026-05-01T00:00:00+05:00"), at(2026, 4, 30, 19, 0, 0));
  EXPECT_EQ(parse_iso8601("2026-05-01T00:00:00-0130"), at(2026, 5, 1, 1, 30, 0));
  EXPECT_EQ(parse_iso8601("2026-06-28T09:39:08Z"), at(2026, 6, 28, 9, 39, 8));
  EXPECT_EQ(parse_iso8601("2026-06-28T09:39:08.123456+00:00"), at(2026, 6, 28, 9, 39, 8));
}

TEST(Iso8601, RejectsWhatIsNotATimestamp) {
  EXPECT_EQ(parse_iso8601(""), std::nullopt);
  EXPECT_EQ(parse_iso8601("2026-06-28T09:39:08"), std::nullopt);  // no zone
  EXPECT_EQ(parse_iso8601("2026-02-30T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_iso8601("2026-06-28T25:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_iso8601("2026-06-28T09:39:08Zjunk"), std::nullopt);
  EXPECT_EQ(parse_iso8601("next month"), std::nullopt);
}

TEST(Iso8601, FormatsWithAnExplicitUtcOffset) {
  EXPECT_EQ(format_iso8601(at(2026, 6, 28, 9, 39, 8)), "2026-06-28T09:39:08+00:00");
  EXPECT_EQ(parse_iso8601(format_iso8601(at(1999, 12, 31, 23, 59, 59))), at(1999, 12, 31, 23, 59, 59));
}

TEST(ReceivedAt, RoundTripsTheApiFormat) {
  EXPECT_EQ(parse_received_at("2026-06-28 09:39:08"), at(2026, 6, 28, 9, 39, 8));
  EXPECT_EQ(format_received_at(at(2026, 6, 28, 9, 39, 8)), "2026-06-28 09:39:08");
  EXPECT_EQ(parse_received_at("2026-06-28T09:39:08"), std::nullopt);
}

TEST(StartOfNextMonth, RollsOverTheYear) {
  EXPECT_EQ(start_of_next_month(at(2026, 12, 31, 23, 0, 0)), at(2027, 1, 1, 0, 0, 0));
  EXPECT_EQ(start_of_next_month(at(2026, 2, 1, 0, 0, 0)), at(2026, 3, 1, 0, 0, 0));
}

TEST(RetryAfter, ReadsSecondsAndHttpDates) {
  const auto now = at(2026, 1, 1, 0, 0, 0);
  EXPECT_EQ(parse_retry_after("120", now), now + seconds{120});
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now), now + seconds{30});
  EXPECT_EQ(parse_retry_after("-1", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
}

}  // namespace
}  // namespace tempmail::detail
