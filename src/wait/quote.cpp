#include "wait/quote.hpp"

#include <cstdio>

namespace tempmail::detail {
namespace {

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02x", u);
          out += hex;
        } else {
          out.push_back(c);
        }
    }
  }
}

}  // namespace

std::string escaped(std::string_view text) {
  std::string out;
  append_escaped(out, text);
  return out;
}

std::string quoted(std::string_view text, std::size_t max_bytes) {
  std::string out = "\"";
  if (text.size() <= max_bytes) {
    append_escaped(out, text);
  } else {
    // Two thirds from the start, a third from the end: where a "$" looks.
    std::size_t head = max_bytes * 2 / 3;
    while (head > 0 && continuation_byte(text[head])) --head;
    std::size_t tail = text.size() - (max_bytes - max_bytes * 2 / 3);
    while (tail < text.size() && continuation_byte(text[tail])) ++tail;
    append_escaped(out, text.substr(0, head));
    out += "\" ... \"";
    append_escaped(out, text.substr(tail));
  }
  out += '"';
  return out;
}

std::string quoted_with_size(std::string_view text, std::size_t max_bytes) {
  return quoted(text, max_bytes) + " (" + std::to_string(text.size()) +
         (text.size() == 1 ? " byte)" : " bytes)");
}

}  // namespace tempmail::detail
