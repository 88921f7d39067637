// Rewrites HTML before Gumbo parses it so that Gumbo has less to do, while the
// tree it builds renders exactly as the original's would. Gumbo spends most of
// its time per input character (every text character is a token of its own),
// so the rewrite follows Gumbo's tokenizer (0.10.1, HTML5 tokenization) over
// the input and
//   - replaces each run of plain text with one private-use marker character
//     that the walk turns back into the original run;
//   - replaces each style="..." value by a marker holding what the walk would
//     have read from it (hidden, font size, code styling, ...), and the href
//     of each <a> by a marker for its value (the tree builder never compares
//     the attributes of an <a>: it closes any open one before it opens one);
//   - drops attributes that neither Gumbo's tree builder nor the walk reads;
//   - collapses whitespace between tags, until the first <pre>/<listing>;
//   - empties <style>, <script> and comments, which never render.
// Where the tokenizer's state would depend on the tree builder (inside
// <select>, <svg>, <math>, <template>, <frameset>, <plaintext>, a <script> that
// holds "<!--"), the rest of the input is copied unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tempmail::detail {

/// Text markers are U+F0000 + index (plane 15, private use); style markers are
/// U+100000 + code (plane 16). Both are four UTF-8 bytes that Gumbo passes
/// through unchanged. A document that has such characters of its own, or a
/// numeric character reference that could produce one, gets no markers.
inline constexpr std::uint32_t kTextMarkerBase = 0xF0000;
inline constexpr std::size_t kMaxTextRuns = 0xFFFE;  // U+FFFFE/U+FFFFF are noncharacters
inline constexpr std::uint32_t kStyleMarkerBase = 0x100000;
inline constexpr std::uint16_t kStyleCodes = 1024;
inline constexpr std::uint16_t kNoStyleCode = 0xFFFF;
/// Attribute value markers are U+100400 + index into PreparedHtml::values.
inline constexpr std::uint32_t kValueMarkerBase = kStyleMarkerBase + kStyleCodes;
inline constexpr std::size_t kMaxValues = 0x10FFFE - kValueMarkerBase;

/// Summarises a style attribute value as a code below kStyleCodes, or
/// kNoStyleCode to leave the value as it is.
using StyleCoder = std::uint16_t (*)(std::string_view css);

struct TextRun {
  std::uint32_t offset = 0;  // in the input given to prepare_html
  std::uint32_t size = 0;
};

struct PreparedHtml {
  bool changed = false;  // `html` holds the rewritten input; else parse the input itself
  bool markers = false;  // text and style markers may appear in the parsed tree
  std::string html;
  std::vector<TextRun> runs;        // text marker i stands for runs[i]
  std::vector<std::string> values;  // value marker i stands for values[i], as Gumbo decodes it
};

PreparedHtml prepare_html(std::string_view html, StyleCoder style_coder);

/// The index of the text marker at the start of `s` (which must hold at least
/// four bytes starting with 0xF3), or -1 when it is not one.
inline long text_marker_at(std::string_view s) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  if (s.size() < 4 || b(0) != 0xF3 || b(1) < 0xB0 || b(1) > 0xBF) return -1;
  return static_cast<long>(((b(1) & 0x0Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu));
}

/// The plane-16 offset of `s` when it is exactly one plane-16 character
/// (a style or value marker), else -1.
inline long plane16_offset(std::string_view s) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  if (s.size() != 4 || b(0) != 0xF4 || b(1) < 0x80 || b(1) > 0x8F) return -1;
  return static_cast<long>(((b(1) & 0x0Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu));
}

/// The style code that `value` (a whole attribute value) stands for, or
/// kNoStyleCode when it is not a style marker.
inline std::uint16_t style_marker_code(std::string_view s) {
  long offset = plane16_offset(s);
  return offset >= 0 && offset < kStyleCodes ? static_cast<std::uint16_t>(offset) : kNoStyleCode;
}

/// The index into PreparedHtml::values that `value` stands for, or -1.
inline long value_marker_index(std::string_view s) {
  long offset = plane16_offset(s);
  return offset >= static_cast<long>(kStyleCodes) ? offset - kStyleCodes : -1;
}

}  // namespace tempmail::detail
