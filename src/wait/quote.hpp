// Text from a message (an attacker's, possibly) shown in an explanation or a
// timeout report: quoted, escaped so control characters cannot move the
// terminal's cursor or hide a trailing newline, and shortened in the middle.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tempmail::detail {

/// `text` with `"`, `\`, newline, CR, tab and other control characters
/// written as C escapes (`\n`, `\x1b`).
[[nodiscard]] std::string escaped(std::string_view text);

/// `text` in double quotes with `"`, `\`, newline, CR, tab and other control
/// characters written as C escapes (`\n`, `\x1b`). Longer than `max_bytes`:
/// its start and its end, joined by "...", each cut at a UTF-8 boundary.
[[nodiscard]] std::string quoted(std::string_view text, std::size_t max_bytes = 200);

/// `quoted(text, max_bytes)` followed by " (N bytes)".
[[nodiscard]] std::string quoted_with_size(std::string_view text, std::size_t max_bytes = 160);

}  // namespace tempmail::detail
