// Times as the database and the journal keep them: seconds since the epoch.
#pragma once

#include <chrono>
#include <cstdint>

namespace tempmail::local::detail {

inline std::int64_t to_unix(std::chrono::sys_seconds t) { return t.time_since_epoch().count(); }
inline std::chrono::sys_seconds from_unix(std::int64_t s) {
  return std::chrono::sys_seconds{std::chrono::seconds{s}};
}

}  // namespace tempmail::local::detail
