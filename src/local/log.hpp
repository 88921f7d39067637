// The local server's log: one line per event on stderr (stdout is reserved for
// tempmail-server's single JSON line). Callers never pass an API key; text that
// might hold one goes through tempmail::detail::redact first.
#pragma once

#include <string_view>

namespace tempmail::local::detail {

/// Writes "tempmail-server: <line>\n" to stderr atomically with respect to other log lines.
void log_line(std::string_view line);

}  // namespace tempmail::local::detail
