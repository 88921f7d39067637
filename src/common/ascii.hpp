// ASCII-only text helpers: case folding, comparison and trimming that never
// depend on the C locale (std::tolower does) and leave non-ASCII bytes alone.
// Protocol tokens (SMTP verbs, HTTP schemes, header names, charsets, domain
// names) are ASCII case-insensitive by their RFCs; user text is never folded.
#pragma once

#include <string>
#include <string_view>

namespace tempmail::detail {

[[nodiscard]] constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
[[nodiscard]] constexpr char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}
[[nodiscard]] constexpr bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/// `text` with A-Z folded to a-z.
[[nodiscard]] inline std::string to_ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

[[nodiscard]] constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

[[nodiscard]] constexpr bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

/// Where `needle` first occurs in `text`, ignoring ASCII case, or npos.
[[nodiscard]] constexpr std::size_t ifind(std::string_view text, std::string_view needle) {
  if (needle.size() > text.size()) return std::string_view::npos;
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i)
    if (iequals(text.substr(i, needle.size()), needle)) return i;
  return std::string_view::npos;
}

/// `text` without the characters of `chars` at either end (default: blanks).
[[nodiscard]] constexpr std::string_view trim(std::string_view text,
                                              std::string_view chars = " \t") {
  const auto first = text.find_first_not_of(chars);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(chars) - first + 1);
}

}  // namespace tempmail::detail
