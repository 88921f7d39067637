// ISO 8601 and the API's "receivedAt" format, parsed and written in one place.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tempmail::detail {

/// "2026-05-01T00:00:00+05:00", "...Z", "...+0500", fractional seconds allowed;
/// returns the instant in UTC, or nullopt when the text is not such a timestamp.
std::optional<std::chrono::sys_seconds> parse_iso8601(std::string_view text);
/// "2026-06-28T09:39:08+00:00".
std::string format_iso8601(std::chrono::sys_seconds t);
/// "2026-06-28 09:39:08" (UTC, no zone): the API's receivedAt.
std::optional<std::chrono::sys_seconds> parse_received_at(std::string_view text);
std::string format_received_at(std::chrono::sys_seconds t);
/// The first instant of the month after `t` (UTC): when a monthly quota resets.
std::chrono::sys_seconds start_of_next_month(std::chrono::sys_seconds t);
/// An HTTP date (RFC 9110 IMF-fixdate) or a delay in seconds, as Retry-After carries.
std::optional<std::chrono::sys_seconds> parse_retry_after(std::string_view text,
                                                          std::chrono::sys_seconds now);

}  // namespace tempmail::detail
