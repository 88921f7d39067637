#include "duration.hpp"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

namespace tempmail::cli {
namespace {

// A decimal number at the front of `text` ("12", "1.5"); consumes it.
std::optional<double> take_number(std::string_view& text) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  const std::size_t whole = i;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == whole + 1) return std::nullopt;  // "1." has no fraction digits
  }
  if (whole == 0) return std::nullopt;  // ".5" and "s" are not numbers here
  const double value = std::stod(std::string(text.substr(0, i)));
  text.remove_prefix(i);
  return value;
}

// The unit at the front of `text` in milliseconds; consumes it.
std::optional<double> take_unit(std::string_view& text) {
  // "ms" before "m": the longest unit wins.
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ms", 1.0}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}};
  for (const auto& [name, ms] : kUnits) {
    if (text.starts_with(name)) {
      text.remove_prefix(name.size());
      return ms;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string_view rest = text;
  double total_ms = 0;
  for (bool first = true; !rest.empty(); first = false) {
    const auto number = take_number(rest);
    if (!number) return std::nullopt;
    if (first && rest.empty()) {  // the whole text is one number: seconds
      total_ms = *number * 1e3;
      break;
    }
    const auto unit = take_unit(rest);
    if (!unit) return std::nullopt;
    total_ms += *number * *unit;
  }
  const double max_ms = std::chrono::duration<double, std::milli>(kMaxDuration).count();
  if (!std::isfinite(total_ms) || total_ms > max_ms) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

CLI::Validator duration_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (parse_duration(value)) return {};
        return "'" + value +
               "' is not a duration: write e.g. 30s, 2m, 500ms, 1h, 1m30s, or a number of "
               "seconds (at most 720h)";
      },
      "");
}

}  // namespace tempmail::cli
