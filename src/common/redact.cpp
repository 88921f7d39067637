#include "common/redact.hpp"

#include <cctype>

namespace tempmail::detail {
namespace {

bool key_character(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

}  // namespace

std::string redact(std::string_view text, std::string_view secret) {
  if (secret.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  for (std::size_t hit = text.find(secret); hit != std::string_view::npos;
       hit = text.find(secret, hit + 1)) {
    const std::size_t end = hit + secret.size();
    if (hit < copied) continue;  // overlaps a replaced occurrence
    const bool starts_token = hit == 0 || !key_character(text[hit - 1]);
    const bool ends_token = end == text.size() || !key_character(text[end]);
    if (!starts_token || !ends_token) continue;
    out.append(text.substr(copied, hit - copied));
    out.append(kRedacted);
    copied = end;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace tempmail::detail
