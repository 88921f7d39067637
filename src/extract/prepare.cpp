// The pre-parse rewrite (see prepare.hpp). It follows the tokenizer of Gumbo
// 0.10.1 (src/tokenizer.c, HTML5 "Tokenization") state by state where the
// state decides where a token ends, and copies everything else unchanged.
// What makes each change invisible in the tree (tests/unit/extract/
// prepare_test.cpp renders thousands of generated documents both ways):
//   - Gumbo's UTF-8 decoder never swallows an ASCII byte into an invalid
//     sequence, so every '<', '>', '&', quote and space is seen as written
//     (CR and CRLF become LF: CR counts as a space here).
//   - Outside <select>, foreign content (<svg>, <math>), <template> and
//     framesets, every <style>, <script>, <title>, <textarea>, <xmp>, <iframe>,
//     <noembed> and <noframes> start tag switches the tokenizer to raw text,
//     which ends at the first "</name" followed by a space, '/' or '>'.
//   - The tree builder treats a run of text the same whatever its characters,
//     as long as the run starts with the same kind (space or not).
//   - It reads no attribute this drops, and compares attribute values only
//     between formatting elements (the "Noah's Ark" clause), which keep theirs;
//     the self-closing flag a dropped attribute may bring matters only on
//     foreign elements, where rewriting has stopped.
#include "extract/prepare.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <unordered_map>

namespace tempmail::detail {
namespace {

constexpr std::size_t npos = std::string_view::npos;

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// `raw` equals the lower-case `name`, ignoring ASCII case.
bool is_name(std::string_view raw, std::string_view name) {
  if (raw.size() != name.size()) return false;
  for (std::size_t i = 0; i < raw.size(); ++i)
    if (lower(raw[i]) != name[i]) return false;
  return true;
}

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// What a start tag's name means here.
enum class TagKind : std::uint8_t {
  kOther,
  // After these the tokenizer's state depends on the tree builder (a <style>
  // in <select> is ignored, one in <svg> is an element with markup inside, ...)
  // or everything left is text (<plaintext>): the rest of the input is copied
  // as it is.
  kStop,
  // Formatting elements: the tree builder compares their attributes (the
  // "Noah's Ark" clause keeps at most three equal ones open), so theirs stay.
  kFormatting,
  // <a> is one, but before an <a> opens, any <a> still open (since the last
  // marker) is closed and dropped from the list: no two are ever compared.
  kAnchor,
  kPre,      // <pre>, <listing>: whitespace from here on is kept as it is
  kStyle,    // raw text, emptied
  kScript,   // raw text (script states), emptied
  kRawText,  // raw text kept: <title>, <textarea>, <xmp>, <iframe>, <noembed>, <noframes>
};

struct TagName {
  TagKind kind = TagKind::kOther;
  std::string_view lower;  // the name in lower case, for raw text kinds
};

TagName classify_tag(std::string_view raw, std::array<char, 16>& buf) {
  if (raw.size() > 9) return {};
  for (std::size_t i = 0; i < raw.size(); ++i) buf[i] = lower(raw[i]);
  std::string_view n(buf.data(), raw.size());
  auto is = [&](std::string_view name) { return n == name; };
  TagKind k = TagKind::kOther;
  switch (n.size()) {
    case 1:
      if (is("a")) {
        k = TagKind::kAnchor;
      } else if (is("b") || is("i") || is("s") || is("u")) {
        k = TagKind::kFormatting;
      }
      break;
    case 2:
      if (is("em") || is("tt")) k = TagKind::kFormatting;
      break;
    case 3:
      k = is("pre")   ? TagKind::kPre
          : is("svg") ? TagKind::kStop
          : is("xmp") ? TagKind::kRawText
          : is("big") ? TagKind::kFormatting
                      : k;
      break;
    case 4:
      k = is("math")                               ? TagKind::kStop
          : is("code") || is("font") || is("nobr") ? TagKind::kFormatting
                                                   : k;
      break;
    case 5:
      k = is("style")   ? TagKind::kStyle
          : is("title") ? TagKind::kRawText
          : is("small") ? TagKind::kFormatting
                        : k;
      break;
    case 6:
      k = is("script")                   ? TagKind::kScript
          : is("select")                 ? TagKind::kStop
          : is("iframe")                 ? TagKind::kRawText
          : is("strong") || is("strike") ? TagKind::kFormatting
                                         : k;
      break;
    case 7:
      k = is("listing") ? TagKind::kPre : is("noembed") ? TagKind::kRawText : k;
      break;
    case 8:
      k = is("template") || is("frameset")   ? TagKind::kStop
          : is("textarea") || is("noframes") ? TagKind::kRawText
                                             : k;
      break;
    case 9:
      if (is("plaintext")) k = TagKind::kStop;
      break;
    default:
      break;
  }
  return {k, n};
}

// Attributes that neither Gumbo's tree builder (it reads type, color, face,
// size, encoding, prompt, name and action, and only on some elements) nor
// render.cpp reads. Layout tables carry many of them. `name` is lower case.
bool unread_attribute(std::string_view name) {
  switch (name.size()) {
    case 3:
      return name == "src";
    case 4:
      return name == "role";
    case 5:
      return name == "align" || name == "width";
    case 6:
      return name == "height" || name == "target" || name == "valign";
    case 11:
      return name == "cellpadding" || name == "cellspacing";
    default:
      return false;
  }
}

// Bytes that continue a run of text: printable ASCII but '<' and '&' (which
// start markup and character references), and tab, LF, FF. Not CR (Gumbo
// rewrites it), NUL or other controls (Gumbo reports and replaces them).
constexpr std::array<bool, 128> kRunByte = [] {
  std::array<bool, 128> t{};
  for (int c = 0x20; c < 0x7F; ++c) t[static_cast<std::size_t>(c)] = true;
  t['<'] = t['&'] = false;
  t['\t'] = t['\n'] = t['\f'] = true;
  return t;
}();

// Length of the well-formed UTF-8 character at `p` when Gumbo passes it
// through unchanged, 0 when Gumbo would replace it with U+FFFD (ill-formed
// UTF-8, C1 controls, noncharacters: utf8.c, utf8_is_invalid_code_point).
std::size_t clean_multibyte(const unsigned char* p, const unsigned char* end) {
  auto cont = [&](std::size_t i) { return p + i < end && (p[i] & 0xC0) == 0x80; };
  unsigned c0 = p[0];
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    if (!cont(1)) return 0;
    unsigned cp = ((c0 & 0x1F) << 6) | (p[1] & 0x3F);
    return cp >= 0xA0 ? 2 : 0;  // U+0080..U+009F are controls
  }
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c0 == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c0 == 0xED && p[1] > 0x9F) return 0;  // surrogates
    unsigned cp = ((c0 & 0x0F) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3F);
    if ((cp >= 0xFDD0 && cp <= 0xFDEF) || cp >= 0xFFFE) return 0;
    return 3;
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c0 == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (c0 == 0xF4 && p[1] > 0x8F) return 0;  // above U+10FFFF
    unsigned cp =
        ((c0 & 0x07) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3F);
    if ((cp & 0xFFFF) >= 0xFFFE) return 0;
    return 4;
  }
  return 0;
}

// Whether the input could put a marker character into the tree by itself:
// a raw character of plane 15 or 16, or a numeric character reference of
// U+F0000 or more (Gumbo's arithmetic wraps, so any large one counts).
bool has_marker_lookalikes(std::string_view s) {
  if (s.empty()) return false;  // (data() may be null, which memchr must not see)
  const char* begin = s.data();
  const char* end = begin + s.size();
  for (const char* p = begin;
       (p = static_cast<const char*>(std::memchr(p, 0xF3, static_cast<std::size_t>(end - p))));
       ++p) {
    if (p + 1 < end && static_cast<unsigned char>(p[1]) >= 0xB0) return true;
  }
  if (std::memchr(begin, 0xF4, s.size()) != nullptr) return true;
  for (const char* p = begin;
       (p = static_cast<const char*>(std::memchr(p, '&', static_cast<std::size_t>(end - p))));
       ++p) {
    if (p + 1 >= end || p[1] != '#') continue;
    const char* q = p + 2;
    bool hex = q < end && (*q == 'x' || *q == 'X');
    if (hex) ++q;
    std::uint64_t value = 0;
    for (; q < end; ++q) {
      unsigned char c = static_cast<unsigned char>(*q);
      int digit = is_digit(c)                     ? c - '0'
                  : hex && (c >= 'a' && c <= 'f') ? c - 'a' + 10
                  : hex && (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                  : -1;
      if (digit < 0) break;
      value = std::min<std::uint64_t>(value * (hex ? 16 : 10) + static_cast<unsigned>(digit),
                                      std::uint64_t{1} << 40);
    }
    if (value >= kTextMarkerBase) return true;
  }
  return false;
}

void append_marker(std::string& out, std::uint32_t cp) {
  out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
  out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
  out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
  out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
}

class Rewriter {
 public:
  Rewriter(std::string_view in, StyleCoder coder, PreparedHtml& out)
      : in_(in),
        n_(in.size()),
        bytes_(reinterpret_cast<const unsigned char*>(in.data())),
        coder_(coder),
        out_(out) {}

  void run() {
    std::size_t i = 0;
    while (i < n_) {
      unsigned char c = bytes_[i];
      if (c == '<') {
        i = markup(i);
        if (i == npos) break;
      } else if (c == '&') {
        // A character reference consumes letters, digits, '#' and ';' at most.
        ++i;
        while (i < n_ &&
               (is_alpha(bytes_[i]) || is_digit(bytes_[i]) || bytes_[i] == '#' || bytes_[i] == ';'))
          ++i;
      } else if (is_space(c)) {
        std::size_t j = i + 1;
        while (j < n_ && is_space(bytes_[j])) ++j;
        if (collapse_ && j - i > 1) replace(i, j, " ");
        i = j;
      } else {
        std::size_t j = run_end(i);
        if (j == i) {
          ++i;  // a character Gumbo rewrites: left as it is
          continue;
        }
        if (out_.markers && j - i >= 2 && out_.runs.size() < kMaxTextRuns) {
          replace(i, j, {});
          append_marker(out_.html, kTextMarkerBase + static_cast<std::uint32_t>(out_.runs.size()));
          out_.runs.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j - i)});
        }
        i = j;
      }
    }
    if (copied_ == 0) {
      out_.html.clear();
      out_.changed = false;
      return;
    }
    out_.html.append(in_.data() + copied_, n_ - copied_);
    out_.changed = true;
  }

 private:
  struct Attribute {
    std::size_t begin = 0;  // name
    std::size_t name_end = 0;
    std::size_t value_begin = npos;
    std::size_t value_end = npos;
    std::size_t end = 0;  // after the value (and its closing quote)
  };

  // Output in_[copied_, begin) unchanged, then `with` instead of [begin, end).
  void replace(std::size_t begin, std::size_t end, std::string_view with) {
    if (out_.html.capacity() == 0) out_.html.reserve(n_ / 2 + 64);
    out_.html.append(in_.data() + copied_, begin - copied_);
    out_.html.append(with);
    copied_ = end;
  }

  // End of the run of text starting at i (not a space, '<' or '&').
  std::size_t run_end(std::size_t i) const {
    std::size_t j = i;
    while (j < n_) {
      unsigned char c = bytes_[j];
      if (c < 0x80) {
        if (!kRunByte[c]) break;
        ++j;
      } else {
        std::size_t len = clean_multibyte(bytes_ + j, bytes_ + n_);
        if (len == 0) break;
        j += len;
      }
    }
    return j;
  }

  std::size_t after_gt(std::size_t from) const {
    std::size_t gt = in_.find('>', from);
    return gt == npos ? n_ : gt + 1;
  }

  // At a '<' in the data state: where the data state resumes, or npos to stop.
  std::size_t markup(std::size_t i) {
    if (i + 1 >= n_) return n_;
    unsigned char c = bytes_[i + 1];
    if (c == '!') {
      if (in_.compare(i + 2, 2, "--") == 0) return comment(i + 4);
      if (i + 9 <= n_ && is_name(in_.substr(i + 2, 7), "doctype")) return after_gt(i + 9);
      return after_gt(i + 2);  // bogus comment
    }
    if (c == '/') {
      if (i + 2 >= n_) return n_;
      unsigned char d = bytes_[i + 2];
      if (is_alpha(d)) return tag(i + 2, /*end_tag=*/true);
      if (d == '>') return i + 3;  // "</>" is dropped
      return after_gt(i + 2);      // bogus comment
    }
    if (c == '?') return after_gt(i + 1);  // bogus comment
    if (is_alpha(c)) return tag(i + 1, /*end_tag=*/false);
    return i + 1;  // a '<' of text
  }

  // After "<!--" at p. A comment ends at the first "-->" or "--!>"; "<!-->"
  // and "<!--->" are whole; without an end it runs to the end of the input.
  // Its text is dropped: the tree keeps an empty comment in its place.
  std::size_t comment(std::size_t p) {
    if (p < n_ && bytes_[p] == '>') return p + 1;
    if (p + 1 < n_ && bytes_[p] == '-' && bytes_[p + 1] == '>') return p + 2;
    for (std::size_t q = p; (q = in_.find("--", q)) != npos; ++q) {
      std::size_t end = 0;
      if (q + 2 < n_ && bytes_[q + 2] == '>') {
        end = q + 3;
      } else if (q + 3 < n_ && bytes_[q + 2] == '!' && bytes_[q + 3] == '>') {
        end = q + 4;
      } else {
        continue;
      }
      if (end - p > 3) replace(p, end, "-->");
      return end;
    }
    if (p < n_) replace(p, n_, {});
    return n_;
  }

  // The "<" of the first "</name" followed by a space, '/' or '>' at or after
  // `from` (an appropriate end tag of raw text), or npos.
  std::size_t raw_text_end(std::size_t from, std::string_view name) const {
    for (std::size_t p = from; (p = in_.find("</", p)) != npos; p += 2) {
      std::size_t after = p + 2 + name.size();
      if (after >= n_) return npos;
      if (is_name(in_.substr(p + 2, name.size()), name) &&
          (is_space(bytes_[after]) || bytes_[after] == '/' || bytes_[after] == '>'))
        return p;
    }
    return npos;
  }

  // A start or end tag whose name starts at p; where the data state resumes.
  std::size_t tag(std::size_t p, bool end_tag) {
    std::size_t name_begin = p;
    while (p < n_ && !is_space(bytes_[p]) && bytes_[p] != '/' && bytes_[p] != '>') ++p;
    if (p >= n_) return n_;  // the input ends inside the tag: Gumbo drops it
    std::string_view name = in_.substr(name_begin, p - name_begin);
    std::size_t end = attributes(p);
    if (end == npos) return n_;
    if (end_tag) return end;

    std::array<char, 16> buf;
    TagName kind = classify_tag(name, buf);
    // (An <svg> or <math> keeps its attributes: dropping one can turn "<svg/x>"
    // into "<svg/>", which closes a foreign element at once.)
    if (kind.kind == TagKind::kStop) return npos;
    if (kind.kind != TagKind::kFormatting && !attrs_.empty() && plain_attribute_names()) {
      for (const Attribute& a : attrs_) rewrite(a, kind.kind == TagKind::kAnchor);
    }
    switch (kind.kind) {
      case TagKind::kPre:
        collapse_ = false;
        return end;
      case TagKind::kStyle:
      case TagKind::kScript: {
        std::size_t close = raw_text_end(end, kind.lower);
        if (close == npos) close = n_;
        // In a script, "<!--" switches to the escaped states, where "</script>"
        // may not end it.
        if (kind.kind == TagKind::kScript && in_.substr(end, close - end).find("<!--") != npos)
          return npos;
        if (close > end) replace(end, close, {});
        return close;
      }
      case TagKind::kRawText: {
        std::size_t close = raw_text_end(end, kind.lower);
        return close == npos ? n_ : close;
      }
      default:
        return end;
    }
  }

  // The attribute states from the end of the tag name at p; collects attrs_
  // and returns the position after the closing '>', or npos when the input
  // ends first (Gumbo then drops the tag).
  std::size_t attributes(std::size_t p) {
    enum State { kBeforeName, kName, kAfterName, kBeforeValue, kAfterQuoted, kSelfClosing };
    attrs_.clear();
    Attribute cur;
    State s = kBeforeName;
    for (;;) {
      if (p >= n_) return npos;
      unsigned char c = bytes_[p];
      switch (s) {
        case kBeforeName:
          if (is_space(c)) {
            ++p;
          } else if (c == '/') {
            s = kSelfClosing;
            ++p;
          } else if (c == '>') {
            return p + 1;
          } else {  // anything else, '=' and quotes too, starts a name
            cur = Attribute{p};
            s = kName;
            ++p;
          }
          break;
        case kName:
          if (is_space(c) || c == '/' || c == '=' || c == '>') {
            cur.name_end = p;
            cur.end = p;
            if (is_space(c)) {
              s = kAfterName;
              ++p;
            } else if (c == '=') {
              s = kBeforeValue;
              ++p;
            } else {
              attrs_.push_back(cur);
              s = kBeforeName;  // reprocess '/' or '>'
            }
          } else {
            ++p;
          }
          break;
        case kAfterName:
          if (is_space(c)) {
            ++p;
          } else if (c == '=') {
            s = kBeforeValue;
            ++p;
          } else {
            attrs_.push_back(cur);
            s = kBeforeName;  // '/', '>' or the next name
          }
          break;
        case kBeforeValue:
          if (is_space(c)) {
            ++p;
          } else if (c == '"' || c == '\'') {
            std::size_t close = in_.find(static_cast<char>(c), p + 1);
            if (close == npos) return npos;
            cur.value_begin = p + 1;
            cur.value_end = close;
            cur.end = close + 1;
            attrs_.push_back(cur);
            s = kAfterQuoted;
            p = close + 1;
          } else if (c == '>') {
            cur.end = p;
            attrs_.push_back(cur);
            return p + 1;
          } else {  // unquoted: up to a space or '>'
            std::size_t e = p;
            while (e < n_ && !is_space(bytes_[e]) && bytes_[e] != '>') ++e;
            if (e >= n_) return npos;
            cur.value_begin = p;
            cur.value_end = e;
            cur.end = e;
            attrs_.push_back(cur);
            s = kBeforeName;
            p = e;
          }
          break;
        case kAfterQuoted:
          if (c == '/') {
            s = kSelfClosing;
            ++p;
          } else if (c == '>') {
            return p + 1;
          } else {
            s = kBeforeName;  // a space, or a name right after the quote
          }
          break;
        case kSelfClosing:
          if (c == '>') return p + 1;
          s = kBeforeName;  // a stray '/': reprocess
          break;
      }
    }
  }

  // Attribute names Gumbo keeps as written (but for case), none twice. With
  // max_errors = 0, Gumbo does not clear its name buffer after a duplicate
  // attribute without a value, so the next name gets the duplicate's prepended
  // ("<a x x y>" has "x" and "xy"); dropping an attribute would change which
  // name that is. Odd names (NUL, quotes, ...) are left alone for the same care.
  bool plain_attribute_names() const {
    if (attrs_.size() > 32) return false;
    for (std::size_t i = 0; i < attrs_.size(); ++i) {
      std::string_view name = name_of(attrs_[i]);
      for (char ch : name) {
        auto u = static_cast<unsigned char>(ch);
        if (!is_alpha(u) && !is_digit(u) && u != '-' && u != '_' && u != ':' && u != '.')
          return false;
      }
      for (std::size_t j = 0; j < i; ++j)
        if (same_name(name, name_of(attrs_[j]))) return false;
    }
    return true;
  }

  std::string_view name_of(const Attribute& a) const {
    return in_.substr(a.begin, a.name_end - a.begin);
  }

  void rewrite(const Attribute& a, bool anchor) {
    std::string_view raw = name_of(a);
    if (raw.size() > 11) return;
    char buf[11];
    for (std::size_t i = 0; i < raw.size(); ++i) buf[i] = lower(raw[i]);
    std::string_view name(buf, raw.size());
    if (unread_attribute(name)) {
      replace(a.begin, a.end, {});
      return;
    }
    if (!out_.markers || a.value_begin == npos) return;
    std::string_view value = in_.substr(a.value_begin, a.value_end - a.value_begin);
    if (name == "style") {
      std::uint16_t code = style_code(value);
      if (code >= kStyleCodes) return;
      replace(a.value_begin, a.value_end, {});
      append_marker(out_.html, kStyleMarkerBase + code);
    } else if (anchor && name == "href" && value.size() > 4 && out_.values.size() < kMaxValues) {
      std::string decoded;
      if (!decode_simple_value(value, decoded)) return;
      replace(a.value_begin, a.value_end, {});
      append_marker(out_.html, kValueMarkerBase + static_cast<std::uint32_t>(out_.values.size()));
      out_.values.push_back(std::move(decoded));
    }
  }

  // The value Gumbo makes of `raw` when that is simple to tell: printable
  // ASCII, tab, LF, FF, and '&' only in "&amp;" (a reference with its ';' is
  // always decoded, whatever follows). False for anything else.
  static bool decode_simple_value(std::string_view raw, std::string& out) {
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      auto u = static_cast<unsigned char>(raw[i]);
      if (u >= 0x7F || (u < 0x20 && u != '\t' && u != '\n' && u != '\f')) return false;
      if (u == '&') {
        if (raw.compare(i, 5, "&amp;") != 0) return false;
        i += 4;
      }
      out.push_back(static_cast<char>(u));
    }
    return true;
  }

  // The coder's answer for `value`, asked once per distinct value (templates
  // repeat the same inline styles many times).
  std::uint16_t style_code(std::string_view value) {
    auto [it, inserted] = style_codes_.try_emplace(value, kNoStyleCode);
    if (!inserted) return it->second;
    // Only values Gumbo keeps byte for byte: no references, CR, NUL or non-ASCII.
    for (char ch : value) {
      auto u = static_cast<unsigned char>(ch);
      if (u == '&' || u >= 0x7F || (u < 0x20 && u != '\t' && u != '\n' && u != '\f'))
        return kNoStyleCode;
    }
    it->second = coder_(value);
    return it->second;
  }

  std::string_view in_;
  std::size_t n_;
  const unsigned char* bytes_;
  StyleCoder coder_;
  PreparedHtml& out_;
  std::size_t copied_ = 0;
  bool collapse_ = true;
  std::vector<Attribute> attrs_;
  std::unordered_map<std::string_view, std::uint16_t> style_codes_;
};

}  // namespace

PreparedHtml prepare_html(std::string_view html, StyleCoder style_coder) {
  PreparedHtml out;
  out.markers =
      html.size() < std::numeric_limits<std::uint32_t>::max() && !has_marker_lookalikes(html);
  Rewriter(html, style_coder, out).run();
  if (!out.changed) {
    out.markers = false;
    out.runs.clear();
  }
  return out;
}

}  // namespace tempmail::detail
