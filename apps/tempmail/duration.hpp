// Durations as people write them on a command line: "30s", "2m", "500ms",
// "1h", "1m30s", "1.5s"; a bare number is seconds ("90", "0.5").
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string_view>

namespace tempmail::cli {

/// The longest duration accepted: a wait is for CI, not for a month.
inline constexpr std::chrono::hours kMaxDuration{24 * 30};

/// The duration `text` names, rounded to milliseconds; nullopt when it is not
/// one (empty, negative, an unknown unit, longer than kMaxDuration).
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// A CLI11 validator that accepts exactly what parse_duration accepts.
[[nodiscard]] CLI::Validator duration_validator();

}  // namespace tempmail::cli
