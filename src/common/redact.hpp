// The one place that keeps secrets out of text that may be shown or logged.
#pragma once

#include <string>
#include <string_view>

namespace tempmail::detail {

inline constexpr std::string_view kRedacted = "[REDACTED]";

/// `text` with every occurrence of `secret` replaced by "[REDACTED]".
/// An empty secret leaves the text as it is.
std::string redact(std::string_view text, std::string_view secret);

}  // namespace tempmail::detail
