#include "mime/charset.hpp"

#include <gmime/gmime.h>
#include <iconv.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>

#include "common/ascii.hpp"
#include "mime/gmime_init.hpp"

namespace tempmail::detail {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string lower_trimmed(std::string_view text) {
  return tempmail::detail::to_ascii_lower(tempmail::detail::trim(text, " \t\r\n\f\v"));
}

bool is_valid_utf8(std::string_view text) {
  return g_utf8_validate_len(text.data(), static_cast<gsize>(text.size()), nullptr) != FALSE;
}

// RAII for an iconv descriptor; opened directly (not through GMime's shared
// cache) so concurrent parses never share conversion state.
class Iconv {
 public:
  Iconv(const char* to, const char* from) : cd_(iconv_open(to, from)) {}
  ~Iconv() {
    if (ok()) iconv_close(cd_);
  }
  Iconv(const Iconv&) = delete;
  Iconv& operator=(const Iconv&) = delete;
  [[nodiscard]] bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  [[nodiscard]] iconv_t get() const { return cd_; }

 private:
  iconv_t cd_;
};

// Converts with iconv, replacing each byte it cannot decode by U+FFFD and
// going on (iconv itself stops at the first bad byte).
std::string convert(const Iconv& cd, std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2 + 16);
  std::array<char, 4096> chunk{};
  char* in = const_cast<char*>(bytes.data());  // iconv's signature is not const-correct
  std::size_t in_left = bytes.size();
  const auto flush = [&](char* out_ptr) { out.append(chunk.data(), out_ptr); };
  while (true) {
    char* out_ptr = chunk.data();
    std::size_t out_left = chunk.size();
    const bool finishing = in_left == 0;
    const std::size_t rc = finishing ? iconv(cd.get(), nullptr, nullptr, &out_ptr, &out_left)
                                     : iconv(cd.get(), &in, &in_left, &out_ptr, &out_left);
    const int error = errno;
    flush(out_ptr);
    if (rc != static_cast<std::size_t>(-1)) {
      if (finishing) break;
      continue;  // in_left is 0 now: the next round resets the shift state
    }
    if (error == E2BIG) continue;
    if (finishing) break;
    out += kReplacement;
    if (error == EINVAL) break;  // truncated sequence at the end
    ++in;                        // EILSEQ (or anything else): skip one byte
    --in_left;
  }
  return out;
}

// Text without a usable label: UTF-8 when it is valid, else windows-1252.
std::string guess_unlabelled(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  Iconv cd("UTF-8", "WINDOWS-1252");
  if (!cd.ok()) return make_valid_utf8(bytes);
  return make_valid_utf8(convert(cd, bytes));
}

}  // namespace

std::string make_valid_utf8(std::string_view text) {
  if (is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  const char* p = text.data();
  const char* end = text.data() + text.size();
  while (p < end) {
    const char* valid_end = nullptr;
    g_utf8_validate_len(p, static_cast<gsize>(end - p), &valid_end);
    out.append(p, valid_end);
    if (valid_end == end) break;
    out += kReplacement;
    p = valid_end + 1;
  }
  return out;
}

std::string to_utf8(std::string_view bytes, std::string_view charset) {
  const std::string name = lower_trimmed(charset);
  if (name.empty() || name == "us-ascii" || name == "ascii" || name == "us_ascii" ||
      name == "ansi_x3.4-1968") {
    return guess_unlabelled(bytes);
  }
  if (name == "utf-8" || name == "utf8") return make_valid_utf8(bytes);
  // GMime maps MIME names and common aliases ("latin1", "x-unknown"...) to
  // names iconv knows; NUL bytes in the label would make it a different name.
  if (name.find('\0') != std::string::npos) return guess_unlabelled(bytes);
  ensure_gmime_initialized();
  Iconv cd("UTF-8", g_mime_charset_iconv_name(name.c_str()));
  if (!cd.ok()) return guess_unlabelled(bytes);
  return make_valid_utf8(convert(cd, bytes));
}

}  // namespace tempmail::detail
