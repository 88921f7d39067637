/// @file quota.hpp
/// The account's monthly quota, as the `X-RateLimit-*` headers of every
/// authenticated response report it.
///
///   if (auto q = client.last_quota()) std::cout << q->remaining << " calls left";
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>

namespace tempmail {

struct Quota {
  std::int64_t limit = 0;      ///< X-RateLimit-Limit
  std::int64_t used = 0;       ///< X-RateLimit-Used
  std::int64_t remaining = 0;  ///< X-RateLimit-Remaining
  /// X-RateLimit-Reset (ISO 8601 with offset), converted to UTC; absent when
  /// the header was missing or unreadable.
  std::optional<std::chrono::sys_seconds> reset;

  bool operator==(const Quota&) const = default;
};

void PrintTo(const Quota& quota, std::ostream* os);

}  // namespace tempmail
