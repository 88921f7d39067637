// Bytes in a MIME charset -> valid UTF-8, with the fallbacks real mail needs:
// missing, mislabelled ("us-ascii" with 8-bit bytes) and unknown charsets.
#pragma once

#include <string>
#include <string_view>

namespace tempmail::detail {

/// `bytes` labelled with `charset` (a MIME charset name; may be empty, unknown
/// or bogus) converted to UTF-8. Always returns valid UTF-8:
/// - a known charset is converted; undecodable bytes become U+FFFD;
/// - "utf-8" keeps the text, invalid sequences become U+FFFD;
/// - no, "us-ascii" or an unknown charset: the text is kept when it is valid
///   UTF-8, else it is read as windows-1252 (the usual mislabelled 8-bit mail).
std::string to_utf8(std::string_view bytes, std::string_view charset);

/// `text` with each invalid UTF-8 sequence (and each NUL byte) replaced by U+FFFD.
std::string make_valid_utf8(std::string_view text);

}  // namespace tempmail::detail
