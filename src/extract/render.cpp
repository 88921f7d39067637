// Renders HTML to the text a person sees, with Gumbo. The tree is walked with an
// explicit stack (never recursion), so nesting depth cannot overflow the stack.
#include "extract/render.hpp"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>

#include "extract/prepare.hpp"

namespace tempmail::detail {
namespace {

// --- Memory ---------------------------------------------------------------------
// Gumbo allocates every token and node separately. A bump arena makes parsing
// faster and lets us drop the whole tree at once: gumbo_destroy_output() frees
// node by node recursively, which a deeply nested document could overflow.
class Arena {
 public:
  void* allocate(std::size_t n) {
    n = (n + 15) & ~std::size_t{15};
    if (n > left_) {
      std::size_t size = std::max(n, next_block_);
      next_block_ = std::min<std::size_t>(next_block_ * 2, std::size_t{4} << 20);
      blocks_.push_back(std::make_unique_for_overwrite<std::byte[]>(size));
      cur_ = blocks_.back().get();
      left_ = size;
    }
    void* p = cur_;
    cur_ += n;
    left_ -= n;
    return p;
  }

 private:
  std::vector<std::unique_ptr<std::byte[]>> blocks_;
  std::byte* cur_ = nullptr;
  std::size_t left_ = 0;
  std::size_t next_block_ = std::size_t{64} << 10;
};

void* arena_allocate(void* arena, std::size_t n) { return static_cast<Arena*>(arena)->allocate(n); }
void arena_free(void*, void*) {}

// --- Nesting guard ----------------------------------------------------------------
// Gumbo scans the stack of open elements (and the list of active formatting
// elements) for many start tags, so its time grows with the square of the nesting
// depth: 20000 nested <b> take seconds. Real mail nests a few dozen levels. When a
// rough count of open elements passes kMaxNesting, further start tags are dropped
// before parsing; ordinary mail never reaches this.
// Deeper than kDropStrayEndTags, end tags that close nothing are dropped too:
// each one would make the parser scan the whole stack.
constexpr int kMaxNesting = 1500;
constexpr int kDropStrayEndTags = 128;

bool ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// A tag name of up to 8 letters and digits, lower-cased and packed into an
// integer (0 when longer): compared and counted without building strings.
constexpr std::uint64_t pack_name(std::string_view name) {
  if (name.size() > 8) return 0;
  std::uint64_t key = 0;
  for (char c : name) key = (key << 8) | static_cast<unsigned char>(lower(c));
  return key;
}

// Elements that never stay open (void) or that the parser closes implicitly.
bool does_not_nest(std::uint64_t packed) {
  static constexpr auto kNames = [] {
    std::array<std::uint64_t, 30> names{};
    constexpr std::array<std::string_view, 30> kText = {
        "area",  "base",     "body",   "br",  "col",   "colgroup", "dd",    "dt",
        "embed", "hr",       "html",   "img", "input", "keygen",   "li",    "link",
        "meta",  "optgroup", "option", "p",   "param", "source",   "tbody", "td",
        "tfoot", "th",       "thead",  "tr",  "track", "wbr"};
    for (std::size_t i = 0; i < kText.size(); ++i) names[i] = pack_name(kText[i]);
    std::sort(names.begin(), names.end());
    return names;
  }();
  return packed != 0 && std::binary_search(kNames.begin(), kNames.end(), packed);
}

bool raw_text_element(std::uint64_t packed) {
  return packed == pack_name("script") || packed == pack_name("style") ||
         packed == pack_name("textarea") || packed == pack_name("title") ||
         packed == pack_name("xmp") || packed == pack_name("noembed");
}

std::size_t ifind(std::string_view haystack, std::string_view needle, std::size_t from) {
  while (from < haystack.size()) {
    std::size_t p = haystack.find('<', from);
    if (p == std::string_view::npos || p + needle.size() > haystack.size()) break;
    if (iequals(haystack.substr(p, needle.size()), needle)) return p;
    from = p + 1;
  }
  return std::string_view::npos;
}

std::string lower_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = lower(c);
  return out;
}

// Rough count of open elements by (lower-case) name.
class OpenCounts {
 public:
  int& operator[](std::string_view name) {
    std::uint64_t packed = pack_name(name);
    if (packed != 0) return short_[packed];
    return long_[lower_name(name)];
  }

 private:
  std::unordered_map<std::uint64_t, int> short_;
  std::unordered_map<std::string, int> long_;
};

// --- CDATA sections ------------------------------------------------------------------
// Debian's Gumbo 0.10.1 keeps its assertions, and a CDATA section holding only
// whitespace, in MathML or SVG inside a table, followed by text, fails one in
// handle_in_table and aborts the process ("<table><math><mi><![CDATA[ ]]>x").
// Every "<![CDATA[...]]>" becomes the comment "<!--[CDATA[...]]-->" first. Outside
// MathML and SVG that is what it was (a bogus comment, hidden) unless it holds a
// '>'; inside them its text, which mail never relies on, is no longer shown.
std::optional<std::string> neutralize_cdata(std::string_view html) {
  constexpr std::string_view kOpen = "<![CDATA[", kClose = "]]>";
  std::size_t at = html.find(kOpen);
  if (at == std::string_view::npos) return std::nullopt;
  std::string out;
  out.reserve(html.size() + 64);
  std::size_t from = 0;
  while (at != std::string_view::npos) {
    out.append(html, from, at - from).append("<!--[CDATA[");
    const std::size_t body = at + kOpen.size();
    const std::size_t close = html.find(kClose, body);
    if (close == std::string_view::npos) {  // runs to the end, as the comment will
      out.append(html.substr(body));
      return out;
    }
    out.append(html, body, close - body).append("]]-->");
    from = close + kClose.size();
    at = html.find(kOpen, from);
  }
  out.append(html.substr(from));
  return out;
}

std::optional<std::string> limit_nesting(std::string_view html) {
  // Cheap exit: a document with fewer tags than the limit cannot exceed it.
  if (html.size() <= kMaxNesting) return std::nullopt;  // (and data() may be null)
  std::size_t tags = 0;
  for (const char* p = html.data(); tags <= kMaxNesting; ++p, ++tags) {
    p = static_cast<const char*>(
        std::memchr(p, '<', static_cast<std::size_t>(html.data() + html.size() - p)));
    if (p == nullptr) return std::nullopt;
  }
  std::vector<std::pair<std::size_t, std::size_t>> drop;  // [begin, end) of dropped tags
  OpenCounts open;
  int depth = 0;
  std::size_t pos = 0;
  while ((pos = html.find('<', pos)) != std::string_view::npos) {
    std::size_t next = pos + 1;
    if (next >= html.size()) break;
    if (html.substr(next, 3) == "!--") {
      // "<!-->" and "<!--->" are whole (empty) comments.
      std::size_t from = next + 3;
      if (html.substr(from, 1) == ">" || html.substr(from, 2) == "->") {
        pos = html.find('>', from) + 1;
        continue;
      }
      std::size_t end = html.find("-->", from);
      pos = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    std::size_t close = html.find('>', next);
    if (close == std::string_view::npos) break;
    bool end_tag = html[next] == '/';
    std::size_t name_begin = end_tag ? next + 1 : next;
    if (name_begin < close && ascii_alpha(html[name_begin])) {
      std::size_t name_end = name_begin;
      while (name_end < close &&
             (ascii_alpha(html[name_end]) || (html[name_end] >= '0' && html[name_end] <= '9')))
        ++name_end;
      std::string_view name = html.substr(name_begin, name_end - name_begin);
      std::uint64_t packed = pack_name(name);
      if (!end_tag && raw_text_element(packed)) {
        std::string closing = "</" + lower_name(name);
        std::size_t end = ifind(html, closing, close + 1);
        pos = end == std::string_view::npos ? html.size() : end;
        continue;
      }
      // A trailing "/" does not close an HTML element ("<div/>" stays open).
      if (!does_not_nest(packed)) {
        int& count = open[name];
        if (end_tag) {
          if (count > 0) {
            --count;
            if (depth > 0) --depth;
          } else if (depth >= kDropStrayEndTags) {
            // An end tag with nothing to close is ignored by the parser, but only
            // after it searched the whole stack: cheap to drop before parsing.
            drop.emplace_back(pos, close + 1);
          }
        } else if (depth >= kMaxNesting) {
          drop.emplace_back(pos, close + 1);
        } else {
          ++count;
          ++depth;
        }
      }
    }
    pos = close + 1;
  }
  if (drop.empty()) return std::nullopt;
  std::string out;
  out.reserve(html.size());
  std::size_t from = 0;
  for (auto [b, e] : drop) {
    out.append(html.substr(from, b - from));
    from = e;
  }
  out.append(html.substr(from));
  return out;
}

// --- Text building ------------------------------------------------------------------
// Whitespace is held back as "pending" and written only before the next visible
// character, so runs collapse, lines never start or end with spaces, and block
// boundaries become one line break however many nest.
class TextBuilder {
 public:
  enum Pending : std::uint8_t { kNone, kSpace, kTab, kNewline };

  std::string out;

  void pend(Pending p) {
    if (p > pending_) pending_ = p;
  }
  void hard_break() {
    if (pending_ == kNewline) flush();
    pending_ = kNone;
    out.push_back('\n');
  }

  void add_text(std::string_view s) {
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
      unsigned char c = static_cast<unsigned char>(*p);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        pend(kSpace);
        ++p;
        continue;
      }
      if (c < 0x80) {
        const char* run = p;
        while (p < end) {
          unsigned char d = static_cast<unsigned char>(*p);
          if (d >= 0x80 || d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '\f') break;
          ++p;
        }
        flush();
        out.append(run, static_cast<std::size_t>(p - run));
        continue;
      }
      std::size_t n = special_width(p, end);
      if (n != 0) {
        if (is_space_) pend(kSpace);
        p += n;
        continue;
      }
      // Any other non-ASCII byte: copy as is (Gumbo already replaced invalid UTF-8).
      flush();
      out.push_back(*p++);
    }
  }

  void add_preformatted(std::string_view s) {
    flush();
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\r') {
        out.push_back('\n');
        if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
      } else {
        out.push_back(s[i]);
      }
    }
  }

  void finish() {
    while (!out.empty() && is_trim(out.back())) out.pop_back();
    std::size_t lead = 0;
    while (lead < out.size() && is_trim(out[lead])) ++lead;
    out.erase(0, lead);
    pending_ = kNone;
  }

  static bool is_trim(char c) { return c == ' ' || c == '\t' || c == '\n'; }

 private:
  void flush() {
    if (pending_ == kNone) return;
    if (!out.empty()) {
      char last = out.back();
      if (pending_ == kNewline) {
        while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
        if (!out.empty() && out.back() != '\n') out.push_back('\n');
      } else if (last != '\n' && last != ' ' && last != '\t') {
        out.push_back(pending_ == kTab ? '\t' : ' ');
      }
    }
    pending_ = kNone;
  }

  // Width of a Unicode space (is_space_ = true) or an invisible character
  // (zero-width, soft hyphen, the U+034F padding of preheaders) at p; 0 otherwise.
  std::size_t special_width(const char* p, const char* end) {
    auto b = [&](std::size_t i) { return p + i < end ? static_cast<unsigned char>(p[i]) : 0u; };
    unsigned c0 = b(0), c1 = b(1), c2 = b(2);
    is_space_ = true;
    if (c0 == 0xC2 && c1 == 0xA0) return 2;                              // NBSP
    if (c0 == 0xE2 && c1 == 0x80 && c2 >= 0x80 && c2 <= 0x8A) return 3;  // U+2000..U+200A
    if (c0 == 0xE2 && c1 == 0x80 && c2 == 0xAF) return 3;                // U+202F
    if (c0 == 0xE2 && c1 == 0x81 && c2 == 0x9F) return 3;                // U+205F
    if (c0 == 0xE3 && c1 == 0x80 && c2 == 0x80) return 3;                // U+3000
    is_space_ = false;
    if (c0 == 0xC2 && c1 == 0xAD) return 2;                              // soft hyphen
    if (c0 == 0xCD && c1 == 0x8F) return 2;                              // U+034F
    if (c0 == 0xE2 && c1 == 0x80 && c2 >= 0x8B && c2 <= 0x8D) return 3;  // U+200B..U+200D
    if (c0 == 0xE2 && c1 == 0x81 && c2 == 0xA0) return 3;                // U+2060
    if (c0 == 0xEF && c1 == 0xBB && c2 == 0xBF) return 3;                // U+FEFF
    return 0;
  }

  Pending pending_ = kNone;
  bool is_space_ = false;
};

// --- Element classes ---------------------------------------------------------------
enum TagClass : std::uint8_t {
  kBlock = 1,
  kSkip = 2,      // never rendered: head, style, script, ...
  kCell = 4,      // td, th: separated by a tab
  kCodeTag = 8,   // code, kbd, samp, tt
  kEmphTag = 16,  // strong, b, h1-h4
  kPre = 32,
};

const std::array<std::uint8_t, GUMBO_TAG_LAST + 1>& tag_classes() {
  static const auto table = [] {
    std::array<std::uint8_t, GUMBO_TAG_LAST + 1> t{};
    for (GumboTag tag :
         {GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE,     GUMBO_TAG_BLOCKQUOTE,
          GUMBO_TAG_CENTER,  GUMBO_TAG_DD,      GUMBO_TAG_DETAILS,   GUMBO_TAG_DIV,
          GUMBO_TAG_DL,      GUMBO_TAG_DT,      GUMBO_TAG_FIELDSET,  GUMBO_TAG_FIGCAPTION,
          GUMBO_TAG_FIGURE,  GUMBO_TAG_FOOTER,  GUMBO_TAG_FORM,      GUMBO_TAG_H1,
          GUMBO_TAG_H2,      GUMBO_TAG_H3,      GUMBO_TAG_H4,        GUMBO_TAG_H5,
          GUMBO_TAG_H6,      GUMBO_TAG_HEADER,  GUMBO_TAG_HR,        GUMBO_TAG_LI,
          GUMBO_TAG_MAIN,    GUMBO_TAG_NAV,     GUMBO_TAG_OL,        GUMBO_TAG_P,
          GUMBO_TAG_PRE,     GUMBO_TAG_SECTION, GUMBO_TAG_SUMMARY,   GUMBO_TAG_TABLE,
          GUMBO_TAG_TR,      GUMBO_TAG_UL,      GUMBO_TAG_CAPTION,   GUMBO_TAG_BODY,
          GUMBO_TAG_HTML,    GUMBO_TAG_LISTING, GUMBO_TAG_PLAINTEXT, GUMBO_TAG_TBODY,
          GUMBO_TAG_THEAD,   GUMBO_TAG_TFOOT,   GUMBO_TAG_MENU,      GUMBO_TAG_DIR})
      t[tag] |= kBlock;
    for (GumboTag tag :
         {GUMBO_TAG_HEAD,   GUMBO_TAG_STYLE,    GUMBO_TAG_SCRIPT,   GUMBO_TAG_TEMPLATE,
          GUMBO_TAG_TITLE,  GUMBO_TAG_IFRAME,   GUMBO_TAG_OBJECT,   GUMBO_TAG_EMBED,
          GUMBO_TAG_AUDIO,  GUMBO_TAG_VIDEO,    GUMBO_TAG_CANVAS,   GUMBO_TAG_MAP,
          GUMBO_TAG_SELECT, GUMBO_TAG_DATALIST, GUMBO_TAG_META,     GUMBO_TAG_LINK,
          GUMBO_TAG_BASE,   GUMBO_TAG_INPUT,    GUMBO_TAG_FRAMESET, GUMBO_TAG_NOFRAMES})
      t[tag] |= kSkip;
    t[GUMBO_TAG_TD] |= kCell;
    t[GUMBO_TAG_TH] |= kCell;
    for (GumboTag tag : {GUMBO_TAG_CODE, GUMBO_TAG_KBD, GUMBO_TAG_SAMP, GUMBO_TAG_TT})
      t[tag] |= kCodeTag;
    for (GumboTag tag :
         {GUMBO_TAG_STRONG, GUMBO_TAG_B, GUMBO_TAG_H1, GUMBO_TAG_H2, GUMBO_TAG_H3, GUMBO_TAG_H4})
      t[tag] |= kEmphTag;
    for (GumboTag tag : {GUMBO_TAG_PRE, GUMBO_TAG_LISTING, GUMBO_TAG_PLAINTEXT, GUMBO_TAG_TEXTAREA})
      t[tag] |= kPre;
    return t;
  }();
  return table;
}

// --- Inline style --------------------------------------------------------------------
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' ||
                        s.front() == '\r' || s.front() == '\f'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r' || s.back() == '\f'))
    s.remove_suffix(1);
  return s;
}

// `needle` is lower case.
bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > haystack.size()) return false;
  const char first = needle.front();
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i)
    if (lower(haystack[i]) == first && iequals(haystack.substr(i, needle.size()), needle))
      return true;
  return false;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// A CSS length: its number and unit (lower case). nullopt when not a number.
struct Length {
  double value = 0;
  std::string_view unit;
};

std::optional<Length> parse_length(std::string_view v) {
  v = trim(v);
  if (v.empty()) return std::nullopt;
  if (v.front() == '+') v.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec != std::errc{}) return std::nullopt;
  std::string_view unit = trim(v.substr(static_cast<std::size_t>(end - v.data())));
  if (std::size_t bang = unit.find('!'); bang != std::string_view::npos)
    unit = trim(unit.substr(0, bang));
  return Length{value, unit};
}

bool is_zero(std::string_view v) {
  auto len = parse_length(v);
  return len && len->value == 0;
}

// Font size in CSS pixels, roughly; nullopt when it cannot be told.
std::optional<double> font_size_px(std::string_view v) {
  v = trim(v);
  if (istarts_with(v, "xx-large") || istarts_with(v, "xxx-large")) return 32;
  if (istarts_with(v, "x-large")) return 24;
  auto len = parse_length(v);
  if (!len) return std::nullopt;
  std::string_view u = len->unit;
  if (u.empty() || iequals(u, "px")) return len->value;
  if (iequals(u, "pt")) return len->value * 4 / 3;
  if (iequals(u, "em") || iequals(u, "rem")) return len->value * 16;
  if (u == "%") return len->value * 16 / 100;
  return std::nullopt;
}

struct ElementStyle {
  bool hidden = false;  // the element and all it contains are not shown
  // Set when the element decides whether its text shows; children may override.
  std::optional<bool> tiny_font;          // font-size of 1px or less
  std::optional<bool> visibility_hidden;  // visibility:hidden
  int weak_hidden = 0;                    // signals that hide only together (preheader tricks)
  std::uint8_t flags = 0;                 // StyleFlag
};

void apply_declaration(std::string_view name, std::string_view value, ElementStyle& s,
                       bool& clipped_size, bool& overflow_hidden) {
  if (iequals(name, "display")) {
    if (istarts_with(value, "none")) s.hidden = true;
  } else if (iequals(name, "visibility")) {
    if (istarts_with(value, "hidden") || istarts_with(value, "collapse")) {
      s.visibility_hidden = true;
    } else if (istarts_with(value, "visible")) {
      s.visibility_hidden = false;
    }
  } else if (iequals(name, "opacity")) {
    if (is_zero(value)) s.hidden = true;
  } else if (iequals(name, "font-size")) {
    if (auto px = font_size_px(value)) {
      s.tiny_font = *px <= 1.0;
      if (*px >= 20) s.flags |= kCodeStyle;
    }
  } else if (iequals(name, "max-height") || iequals(name, "height") || iequals(name, "max-width") ||
             iequals(name, "width")) {
    if (is_zero(value)) {
      clipped_size = true;
      if (iequals(name, "max-height")) ++s.weak_hidden;
    }
  } else if (iequals(name, "overflow") || iequals(name, "overflow-y") ||
             iequals(name, "overflow-x")) {
    if (istarts_with(value, "hidden")) overflow_hidden = true;
  } else if (iequals(name, "line-height")) {
    auto len = parse_length(value);
    if (len && len->value <= 1 && (len->unit.empty() ? len->value == 0 : true)) ++s.weak_hidden;
  } else if (iequals(name, "mso-hide")) {
    if (istarts_with(value, "all")) ++s.weak_hidden;
  } else if (iequals(name, "color")) {
    if (istarts_with(value, "transparent")) ++s.weak_hidden;
  } else if (iequals(name, "font-family")) {
    if (icontains(value, "mono") || icontains(value, "courier") || icontains(value, "consolas") ||
        icontains(value, "menlo") || icontains(value, "monaco") ||
        icontains(value, "lucida console"))
      s.flags |= kCodeStyle;
  } else if (iequals(name, "letter-spacing")) {
    auto len = parse_length(value);
    if (len && len->value > 0) s.flags |= kCodeStyle;
  } else if (iequals(name, "font-weight")) {
    auto len = parse_length(value);
    if (istarts_with(value, "bold") || (len && len->value >= 600)) s.flags |= kEmphasis;
  } else if (istarts_with(name, "border")) {
    if (!is_zero(value) && !istarts_with(value, "none") && !istarts_with(value, "hidden") &&
        !icontains(name, "radius") && !icontains(name, "collapse") && !icontains(name, "spacing"))
      s.flags |= kBox;
  } else if (istarts_with(name, "background") || istarts_with(name, "padding")) {
    if (!is_zero(value) && !istarts_with(value, "none") && !istarts_with(value, "transparent"))
      s.flags |= kBox;
  }
}

void apply_style_attribute(std::string_view style, ElementStyle& s) {
  bool clipped_size = false;
  bool overflow_hidden = false;
  while (!style.empty()) {
    std::size_t semi = style.find(';');
    std::string_view decl = style.substr(0, semi);
    style = semi == std::string_view::npos ? std::string_view{} : style.substr(semi + 1);
    std::size_t colon = decl.find(':');
    if (colon == std::string_view::npos) continue;
    apply_declaration(trim(decl.substr(0, colon)), trim(decl.substr(colon + 1)), s, clipped_size,
                      overflow_hidden);
  }
  if (clipped_size && overflow_hidden) s.hidden = true;
}

// What a style attribute does, as prepare_html() stores it in a marker:
// hidden (1 bit), tiny font and visibility (unset/false/true, 2 bits each),
// weak signals (0-2, more count as 2: two hide) and flags (3 bits).
std::uint16_t style_code(std::string_view css) {
  ElementStyle s;
  apply_style_attribute(css, s);
  auto tri = [](const std::optional<bool>& b) -> unsigned { return b ? (*b ? 2u : 1u) : 0u; };
  unsigned weak = static_cast<unsigned>(std::min(s.weak_hidden, 2));
  return static_cast<std::uint16_t>((s.hidden ? 1u : 0u) | (tri(s.tiny_font) << 1) |
                                    (tri(s.visibility_hidden) << 3) | (weak << 5) |
                                    (static_cast<unsigned>(s.flags & 7) << 7));
}

void apply_style_code(std::uint16_t code, ElementStyle& s) {
  auto tri = [](unsigned v) -> std::optional<bool> {
    return v == 0 ? std::nullopt : std::optional<bool>(v == 2);
  };
  if (code & 1) s.hidden = true;
  if (auto t = tri((code >> 1) & 3)) s.tiny_font = t;
  if (auto v = tri((code >> 3) & 3)) s.visibility_hidden = v;
  s.weak_hidden += (code >> 5) & 3;
  s.flags |= static_cast<std::uint8_t>((code >> 7) & 7);
}

ElementStyle element_style(const GumboElement& el, std::uint8_t tag_class, bool markers) {
  ElementStyle s;
  if (tag_class & kCodeTag) s.flags |= kCodeStyle;
  if (tag_class & kEmphTag) s.flags |= kEmphasis;
  const GumboVector& attrs = el.attributes;
  for (unsigned i = 0; i < attrs.length; ++i) {
    const auto* a = static_cast<const GumboAttribute*>(attrs.data[i]);
    std::string_view name = a->name;  // Gumbo lower-cases attribute names
    std::string_view value = a->value;
    if (name == "style") {
      std::uint16_t code = markers ? style_marker_code(value) : kNoStyleCode;
      if (code != kNoStyleCode) {
        apply_style_code(code, s);
      } else {
        apply_style_attribute(value, s);
      }
    } else if (name == "hidden") {
      s.hidden = true;
    } else if (name == "aria-hidden") {
      if (iequals(trim(value), "true")) ++s.weak_hidden;
    } else if (name == "class" || name == "id") {
      if (icontains(value, "preheader") || icontains(value, "preview")) ++s.weak_hidden;
    } else if (name == "bgcolor" || (name == "border" && !is_zero(value))) {
      s.flags |= kBox;
    } else if (el.tag == GUMBO_TAG_FONT && name == "size") {
      auto len = parse_length(value);
      if (len && (value.find('+') != std::string_view::npos ? len->value >= 2 : len->value >= 5))
        s.flags |= kCodeStyle;
    } else if (el.tag == GUMBO_TAG_FONT && name == "face") {
      if (icontains(value, "mono") || icontains(value, "courier")) s.flags |= kCodeStyle;
    }
  }
  if (s.weak_hidden >= 2) s.hidden = true;
  return s;
}

std::string_view attribute(const GumboElement& el, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&el.attributes, name);
  return a ? std::string_view(a->value) : std::string_view{};
}

const GumboVector* children_of(const GumboNode* node) {
  if (node->type == GUMBO_NODE_DOCUMENT) return &node->v.document.children;
  if (node->type == GUMBO_NODE_ELEMENT) return &node->v.element.children;
  return nullptr;
}

// --- The walk ---------------------------------------------------------------------------
struct Frame {
  const GumboNode* node;
  unsigned next_child = 0;
  std::size_t begin = 0;  // text offset when the element was entered
  std::uint8_t tag_class = 0;
  std::uint8_t style_flags = 0;
  bool tiny_font = false;    // inherited: font-size 1px or less
  bool invisible = false;    // inherited: visibility:hidden
  bool text_hidden = false;  // either: text here is not shown
  bool pre = false;          // inherited: whitespace preserved
  int anchor = -1;           // inherited: index of the enclosing <a href>
  bool opens_anchor = false;
};

void record_styled(const std::string& t, std::vector<Styled>& styled, std::size_t begin,
                   std::uint8_t flags) {
  std::size_t end = t.size();
  while (begin < end && TextBuilder::is_trim(t[begin])) ++begin;
  while (end > begin && TextBuilder::is_trim(t[end - 1])) --end;
  // Only short texts can be a code; long ones are paragraphs in a styled box.
  if (end == begin || end - begin > 80) return;
  if (!styled.empty() && styled.back().begin == begin && styled.back().end == end) {
    styled.back().flags |= flags;
    return;
  }
  styled.push_back({begin, end, flags});
}

// Text as the walk adds it: with markers, a text node may hold markers that
// stand for runs of the source (see prepare.hpp).
class TextSource {
 public:
  TextSource(std::string_view source, const PreparedHtml& prepared)
      : source_(source), prepared_(prepared) {}

  bool markers() const { return prepared_.markers; }

  // An attribute value as Gumbo would have decoded it from the source.
  std::string_view value(std::string_view v) const {
    if (!prepared_.markers) return v;
    long index = value_marker_index(v);
    if (index < 0 || static_cast<std::size_t>(index) >= prepared_.values.size()) return v;
    return prepared_.values[static_cast<std::size_t>(index)];
  }

  void add(TextBuilder& tb, std::string_view text, bool pre) const {
    if (prepared_.markers) {
      std::size_t m;
      while ((m = text.find('\xF3')) != std::string_view::npos) {
        long index = text_marker_at(text.substr(m));
        if (index < 0 || static_cast<std::size_t>(index) >= prepared_.runs.size()) {
          add_plain(tb, text.substr(0, m + 1), pre);
          text.remove_prefix(m + 1);
          continue;
        }
        add_plain(tb, text.substr(0, m), pre);
        const TextRun& run = prepared_.runs[static_cast<std::size_t>(index)];
        add_plain(tb, source_.substr(run.offset, run.size), pre);
        text.remove_prefix(m + 4);
      }
    }
    add_plain(tb, text, pre);
  }

 private:
  static void add_plain(TextBuilder& tb, std::string_view text, bool pre) {
    if (text.empty()) return;
    if (pre) {
      tb.add_preformatted(text);
    } else {
      tb.add_text(text);
    }
  }

  std::string_view source_;
  const PreparedHtml& prepared_;
};

void walk(const GumboNode* root, const TextSource& source, Rendered& r) {
  const auto& classes = tag_classes();
  TextBuilder tb;
  tb.out.swap(r.text);
  std::vector<Frame> stack;
  stack.reserve(64);
  stack.push_back(Frame{root});

  while (!stack.empty()) {
    Frame& top = stack.back();
    const GumboVector* children = children_of(top.node);
    if (children && top.next_child < children->length) {
      const auto* child = static_cast<const GumboNode*>(children->data[top.next_child++]);
      switch (child->type) {
        case GUMBO_NODE_TEXT:
        case GUMBO_NODE_WHITESPACE:
        case GUMBO_NODE_CDATA:
          if (top.text_hidden) break;
          source.add(tb, child->v.text.text, top.pre);
          break;
        case GUMBO_NODE_ELEMENT: {
          const GumboElement& el = child->v.element;
          std::uint8_t cls = el.tag <= GUMBO_TAG_LAST ? classes[el.tag] : 0;
          if (cls & kSkip) break;
          if (el.tag == GUMBO_TAG_BR) {
            if (!top.text_hidden) tb.hard_break();
            break;
          }
          if (el.tag == GUMBO_TAG_IMG) {
            if (top.anchor >= 0) {
              Anchor& a = r.anchors[static_cast<std::size_t>(top.anchor)];
              a.image = true;
              std::string_view alt = trim(attribute(el, "alt"));
              if (a.fallback.empty() && !alt.empty()) a.fallback = alt;
            }
            break;
          }
          ElementStyle style = element_style(el, cls, source.markers());
          if (style.hidden) break;
          Frame f{child};
          f.tag_class = cls;
          f.style_flags = style.flags;
          f.tiny_font = style.tiny_font.value_or(top.tiny_font);
          f.invisible = style.visibility_hidden.value_or(top.invisible);
          f.text_hidden = f.tiny_font || f.invisible;
          f.pre = top.pre || (cls & kPre);
          f.anchor = top.anchor;
          if (cls & kBlock) tb.pend(TextBuilder::kNewline);
          if (el.tag == GUMBO_TAG_A) {
            if (const GumboAttribute* href = gumbo_get_attribute(&el.attributes, "href")) {
              Anchor a;
              a.href = source.value(href->value);
              std::string_view label = trim(attribute(el, "aria-label"));
              if (label.empty()) label = trim(attribute(el, "title"));
              a.fallback = label;
              a.begin = tb.out.size();
              r.anchors.push_back(std::move(a));
              f.anchor = static_cast<int>(r.anchors.size() - 1);
              f.opens_anchor = true;
            }
          }
          f.begin = tb.out.size();
          stack.push_back(std::move(f));
          break;
        }
        default:  // comments, templates
          break;
      }
      continue;
    }
    // Leaving the element: everything it contains has been written.
    if (top.opens_anchor) r.anchors[static_cast<std::size_t>(top.anchor)].end = tb.out.size();
    if (top.style_flags != 0) record_styled(tb.out, r.styled, top.begin, top.style_flags);
    if (top.tag_class & kBlock) tb.pend(TextBuilder::kNewline);
    if (top.tag_class & kCell) tb.pend(TextBuilder::kTab);
    if (top.node->type == GUMBO_NODE_ELEMENT && top.node->v.element.tag == GUMBO_TAG_HR)
      tb.pend(TextBuilder::kNewline);
    stack.pop_back();
  }

  // Trimming the front moves every offset: shift what was recorded.
  std::size_t lead = 0;
  while (lead < tb.out.size() && TextBuilder::is_trim(tb.out[lead])) ++lead;
  tb.finish();
  std::size_t size = tb.out.size();
  auto shift = [&](std::size_t& offset) {
    offset = offset > lead ? std::min(offset - lead, size) : 0;
  };
  for (Anchor& a : r.anchors) {
    shift(a.begin);
    shift(a.end);
  }
  for (Styled& s : r.styled) {
    shift(s.begin);
    shift(s.end);
  }
  r.text.swap(tb.out);
}

}  // namespace

Rendered render_html(std::string_view html, Preparation preparation) {
  Rendered r;
  r.html = true;
  std::optional<std::string> limited = limit_nesting(html);
  if (limited) html = *limited;
  std::optional<std::string> no_cdata = neutralize_cdata(html);
  if (no_cdata) html = *no_cdata;
  PreparedHtml prepared;
  if (preparation == Preparation::kRewrite) prepared = prepare_html(html, style_code);
  std::string_view input = prepared.changed ? std::string_view(prepared.html) : html;
  Arena arena;
  GumboOptions options = kGumboDefaultOptions;
  options.allocator = arena_allocate;
  options.deallocator = arena_free;
  options.userdata = &arena;
  options.max_errors = 0;  // errors copy the open-element stack; we do not read them
  GumboOutput* output = gumbo_parse_with_options(&options, input.data(), input.size());
  if (output != nullptr) walk(output->document, TextSource(html, prepared), r);
  // No gumbo_destroy_output: the arena owns every node and is freed here.
  return r;
}

Rendered render_plain(std::string_view text) {
  Rendered r;
  r.text.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      r.text.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      r.text.push_back(text[i]);
    }
  }
  return r;
}

}  // namespace tempmail::detail
