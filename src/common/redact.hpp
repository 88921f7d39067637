// The one place that keeps secrets out of text that comes from elsewhere (a
// server's error body, an exception from a library) before it is shown or
// logged. Text this project composes never contains a secret to begin with.
#pragma once

#include <string>
#include <string_view>

namespace tempmail::detail {

inline constexpr std::string_view kRedacted = "[REDACTED]";

/// `text` with every whole-token occurrence of `secret` replaced by
/// "[REDACTED]": an occurrence counts only when neither neighbour is a letter,
/// digit, '_' or '-' (the characters of keys), so a short secret such as "e"
/// leaves words like "the" alone. An empty secret leaves the text as it is.
std::string redact(std::string_view text, std::string_view secret);

}  // namespace tempmail::detail
