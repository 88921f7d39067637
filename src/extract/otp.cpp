// One-time codes. Every string of letters and digits that has the shape of a
// code becomes a token; the text around it (the nearest label: "code" or
// "order"), how it is displayed (a big monospaced box) and its shape give it a
// score; the best wins unless a second, different one is nearly as good.
// Everything is linear in the text: one pass for tokens, one RE2 scan per
// keyword list, binary searches for the rest.
#include "extract/otp.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "extract/links.hpp"

namespace tempmail::detail {
namespace {

constexpr int kAccept = 45;           // lowest score taken as the code
constexpr int kAmbiguityMargin = 15;  // a different candidate this close makes it ambiguous
constexpr int kListed = 25;           // lowest score reported among the candidates
constexpr std::size_t kMaxListed = 10;

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

struct Keyword {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool positive = true;
};

// Words that label a one-time code, in the languages services send them in.
const RE2& code_words() {
  static const RE2 re(
      R"((?i)codes?\b|c[óo]digo|\bcodice|\botp\b|\bone[- ]?time\b|\bpin\b|\btan\b|\b2fa\b|)"
      R"(\bmfa\b|\btwo[- ]factor\b|\bverification\b|\bverify\b|\bauthentication\b|\btoken\b|)"
      R"(vérification|verificaci[óo]n|verifica[çc][ãa]o|verifizierung|bestätigung|)"
      R"(код|одноразов|验证|驗證|校验码|校驗碼|动态码|動態碼|确认码|確認碼|激活码|安全码|)"
      R"(动态密码|認証|ワンタイム|コード|パスコード)");
  return re;
}

// Labels of numbers that are not codes. "X code" phrases are listed whole so
// they cancel the "code" inside them.
const RE2& other_number_words() {
  static const RE2 re(
      R"((?i)(?:promo|discount|coupon|voucher|gift|referral|invite|invitation|zip|postal|post|)"
      R"(area|country|source|dress|qr|bar|tracking|booking|reservation|rabatt|gutschein|)"
      R"(product|item|tax|swift|sort|bank|iban)[ -]?codes?|code postal|c[óo]digo postal|)"
      R"(\bdecod|\bencod|unicode|\border(?:s|ed)?\b|bestellung|commande|pedido|заказ|订单|訂單|)"
      R"(注文|\binvoice|rechnung|facture|factura|fatura|сч[её]т|发票|請求|\breceipt|quittung|)"
      R"(\breference\b|\bref\b|referenz|référence|referencia|referência|\bticket|\btracking|)"
      R"(sendungs|\baccount\b|\bkonto\b|\bphone\b|\btel\b|telephone|telefon|)"
      R"(téléphone|teléfono|телефон|电话|電話|\bfax\b|\bcall\b|\bmobile\b|whatsapp|\bzip\b|)"
      R"(postal|postcode|zipcode|\bplz\b|postleitzahl|почтов|индекс|邮编|郵便|promo|coupon|)"
      R"(discount|voucher|rabatt|gutschein|cup[óo]n|descuento|r[ée]duction|desconto|скидк|)"
      R"(промокод|\bsku\b|\bmodel\b|serial|\bid\b|customer|\bmember|kundennummer|\bbooking|)"
      R"(buchung|réservation|reserva\b|бронир|予約|预订|\bsuite\b|\bapt\b|\bunit\b|\bbox\b)");
  return re;
}

std::vector<Span> find_all(const RE2& re, std::string_view text) {
  std::vector<Span> spans;
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece match;
  std::size_t pos = 0;
  while (pos < text.size() && re.Match(input, pos, text.size(), RE2::UNANCHORED, &match, 1)) {
    std::size_t begin = static_cast<std::size_t>(match.data() - text.data());
    std::size_t end = begin + match.size();
    if (end > begin) spans.push_back({begin, end});
    pos = end > pos ? end : pos + 1;
  }
  return spans;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_alnum(char c) { return is_digit(c) || is_upper(c) || is_lower(c); }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// --- One text (the subject or the body) ---------------------------------------------
class Text {
 public:
  // `bare` is find_bare_urls(text) when already known, else null.
  Text(std::string_view text, const std::vector<Styled>* styled, const std::vector<UrlSpan>* bare)
      : text_(text) {
    for (std::size_t i = text.find('\n'); i != std::string_view::npos; i = text.find('\n', i + 1))
      newlines_.push_back(i);
    find_keywords();
    if (bare) {
      find_masks(*bare);
    } else {
      find_masks(find_bare_urls(text_));
    }
    if (styled) {
      styled_ = *styled;
      std::sort(styled_.begin(), styled_.end(), [](const Styled& a, const Styled& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
      });
    }
  }

  std::string_view text() const { return text_; }
  bool has_code_word() const {
    return std::any_of(by_begin_.begin(), by_begin_.end(),
                       [](const Keyword& k) { return k.positive; });
  }

  // The keyword that ends last at or before `pos`.
  const Keyword* keyword_before(std::size_t pos) const {
    auto it = std::upper_bound(by_end_.begin(), by_end_.end(), pos,
                               [](std::size_t p, const Keyword& k) { return p < k.end; });
    return it == by_end_.begin() ? nullptr : &*std::prev(it);
  }
  // The first keyword that starts at or after `pos`.
  const Keyword* keyword_after(std::size_t pos) const {
    auto it = std::lower_bound(by_begin_.begin(), by_begin_.end(), pos,
                               [](const Keyword& k, std::size_t p) { return k.begin < p; });
    return it == by_begin_.end() ? nullptr : &*it;
  }

  bool masked(std::size_t begin, std::size_t end) const {
    auto it = std::upper_bound(masks_.begin(), masks_.end(), begin,
                               [](std::size_t p, const Span& s) { return p < s.end; });
    return it != masks_.end() && it->begin < end;
  }

  std::size_t line_breaks(std::size_t from, std::size_t to) const {
    auto a = std::lower_bound(newlines_.begin(), newlines_.end(), from);
    auto b = std::lower_bound(newlines_.begin(), newlines_.end(), to);
    return static_cast<std::size_t>(b - a);
  }

  bool alone_on_line(std::size_t begin, std::size_t end) const {
    std::size_t b = begin;
    while (b > 0 && text_[b - 1] != '\n') {
      if (!is_blank(text_[b - 1])) return false;
      --b;
    }
    for (std::size_t e = end; e < text_.size() && text_[e] != '\n'; ++e)
      if (!is_blank(text_[e])) return false;
    return true;
  }

  std::uint8_t styled_flags(std::size_t begin, std::size_t end) const {
    auto it = std::lower_bound(styled_.begin(), styled_.end(), begin,
                               [](const Styled& s, std::size_t p) { return s.begin < p; });
    std::uint8_t flags = 0;
    for (; it != styled_.end() && it->begin == begin; ++it)
      if (it->end == end) flags |= it->flags;
    return flags;
  }

  std::string context(std::size_t begin, std::size_t end) const {
    std::size_t from = begin > 40 ? begin - 40 : 0;
    std::size_t to = std::min(text_.size(), end + 40);
    while (from > 0 && (static_cast<unsigned char>(text_[from]) & 0xC0) == 0x80) --from;
    while (to < text_.size() && (static_cast<unsigned char>(text_[to]) & 0xC0) == 0x80) ++to;
    std::string out;
    for (char c : text_.substr(from, to - from)) {
      if (is_blank(c)) {
        if (!out.empty() && out.back() != ' ') out.push_back(' ');
      } else {
        out.push_back(c);
      }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    while (!out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
  }

 private:
  void find_keywords() {
    std::vector<Span> code = find_all(code_words(), text_);
    std::vector<Span> other = find_all(other_number_words(), text_);
    std::size_t o = 0;
    for (Span s : code) {
      while (o < other.size() && other[o].end <= s.begin) ++o;
      bool cancelled = false;
      for (std::size_t i = o; i < other.size() && other[i].begin < s.end; ++i)
        cancelled = cancelled || other[i].end > s.begin;
      if (!cancelled) by_begin_.push_back({s.begin, s.end, true});
    }
    for (Span s : other) by_begin_.push_back({s.begin, s.end, false});
    std::sort(by_begin_.begin(), by_begin_.end(),
              [](const Keyword& a, const Keyword& b) { return a.begin < b.begin; });
    by_end_ = by_begin_;
    std::sort(by_end_.begin(), by_end_.end(),
              [](const Keyword& a, const Keyword& b) { return a.end < b.end; });
  }

  void find_masks(const std::vector<UrlSpan>& bare) {
    for (UrlSpan u : bare) masks_.push_back({u.begin, u.end});
    auto local = [](char c) {
      return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
    };
    for (std::size_t at = text_.find('@'); at != std::string_view::npos;
         at = text_.find('@', at + 1)) {
      std::size_t b = at;
      while (b > 0 && local(text_[b - 1])) --b;
      std::size_t e = at + 1;
      while (e < text_.size() && (is_alnum(text_[e]) || text_[e] == '.' || text_[e] == '-')) ++e;
      if (b < at && e > at + 1) masks_.push_back({b, e});
    }
    std::sort(masks_.begin(), masks_.end(),
              [](const Span& a, const Span& b) { return a.begin < b.begin; });
    std::vector<Span> merged;
    for (Span s : masks_) {
      if (!merged.empty() && s.begin <= merged.back().end) {
        merged.back().end = std::max(merged.back().end, s.end);
      } else {
        merged.push_back(s);
      }
    }
    masks_.swap(merged);
  }

  std::string_view text_;
  std::vector<std::size_t> newlines_;
  std::vector<Keyword> by_begin_;
  std::vector<Keyword> by_end_;
  std::vector<Span> masks_;
  std::vector<Styled> styled_;
};

// --- Tokens ----------------------------------------------------------------------------------
enum class Shape {
  kDigits,         // 4-10 digits
  kGroupedDigits,  // "123 456", "123-456"
  kUpperAlnum,     // "K7X9PQ": capitals and digits
  kGroupedUpper,   // "ABCD-EFGH"
  kUpperAlpha,     // "QWERTZ": capitals only, taken only when presented as a code
  kMixed,          // "aB3dE9xQ", "x7k2pq": taken only when presented as a code
  kLong,           // 11-64 characters: a token, taken only when presented as a code
  kPattern,        // matched the caller's pattern
};

struct Token {
  std::size_t begin = 0;  // the value as displayed, separators included
  std::size_t end = 0;
  std::size_t check_begin = 0;  // where the neighbourhood checks look (includes a "G-" prefix)
  std::string value;
  Shape shape = Shape::kDigits;
  // Digits and capitals own the keyword before them: a later number does not get it.
  bool owns_keyword() const {
    return shape == Shape::kDigits || shape == Shape::kGroupedDigits ||
           shape == Shape::kUpperAlnum || shape == Shape::kGroupedUpper || shape == Shape::kPattern;
  }
};

struct Run {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool digit = false;
  bool upper = false;
  bool lower = false;
  std::size_t size() const { return end - begin; }
  bool digits_only() const { return digit && !upper && !lower; }
};

std::optional<Shape> single_shape(std::string_view s, const Run& r) {
  std::size_t n = r.size();
  if (r.digits_only()) return n >= 4 && n <= 10 ? std::optional(Shape::kDigits) : std::nullopt;
  if (!r.lower) {
    if (r.digit) {
      if (n >= 4 && n <= 10) return Shape::kUpperAlnum;
      if (n > 10 && n <= 64) return Shape::kLong;
      return std::nullopt;
    }
    return n >= 6 && n <= 10 ? std::optional(Shape::kUpperAlpha) : std::nullopt;
  }
  if (n < 6 || n > 64) return std::nullopt;
  // Words ("Hello", "iPhone", "McDonald") and names with a number ("iPhone15",
  // "Windows11") change case or switch between letters and digits once or twice;
  // random codes ("aB3dE9xQ", "x7k2pq") do so often.
  int case_changes = 0;
  int digit_changes = 0;
  for (std::size_t i = r.begin + 1; i < r.end; ++i) {
    bool d0 = is_digit(s[i - 1]), d1 = is_digit(s[i]);
    if (d0 != d1)
      ++digit_changes;
    else if (!d0 && is_upper(s[i]) != is_upper(s[i - 1]))
      ++case_changes;
  }
  if (digit_changes < 2 && case_changes < 4) return std::nullopt;
  return n > 10 ? Shape::kLong : Shape::kMixed;
}

std::vector<Token> find_tokens(std::string_view s) {
  std::vector<Run> runs;
  for (std::size_t i = 0; i < s.size();) {
    if (!is_alnum(s[i])) {
      ++i;
      continue;
    }
    Run r{i, i};
    while (r.end < s.size() && is_alnum(s[r.end])) {
      char c = s[r.end++];
      r.digit = r.digit || is_digit(c);
      r.upper = r.upper || is_upper(c);
      r.lower = r.lower || is_lower(c);
    }
    i = r.end;
    // A run with small letters never joins a chain below, so one that is not
    // a code by itself (most words) can be left out.
    if (r.lower && !single_shape(s, r)) continue;
    runs.push_back(r);
  }

  std::vector<Token> tokens;
  for (std::size_t i = 0; i < runs.size();) {
    // A chain: runs of capitals/digits joined by single spaces (digits only) or hyphens.
    std::size_t j = i;
    char sep = 0;
    while (j + 1 < runs.size()) {
      const Run& a = runs[j];
      const Run& b = runs[j + 1];
      if (b.begin != a.end + 1 || a.lower || b.lower) break;
      char c = s[a.end];
      if ((c != ' ' && c != '-') || (sep != 0 && c != sep)) break;
      if (c == ' ' && !(a.digits_only() && b.digits_only())) break;
      sep = c;
      ++j;
    }
    std::size_t count = j - i + 1;
    const Run& first = runs[i];
    const Run& last = runs[j];
    if (count == 1) {
      if (auto shape = single_shape(s, first))
        tokens.push_back({first.begin, first.end, first.begin,
                          std::string(s.substr(first.begin, first.size())), *shape});
    } else if (count == 2 && sep == '-' && first.size() == 1 && first.upper && last.digits_only() &&
               last.size() >= 4 && last.size() <= 10) {
      // "G-482913": a one-letter service prefix, as Google sends.
      tokens.push_back({last.begin, last.end, first.begin,
                        std::string(s.substr(last.begin, last.size())), Shape::kDigits});
    } else {
      std::size_t len = first.size();
      bool equal = true;
      bool digits = true;
      for (std::size_t k = i; k <= j; ++k) {
        equal = equal && runs[k].size() == len;
        digits = digits && runs[k].digits_only();
      }
      std::size_t total = len * count;
      bool groups = len >= 2 && len <= 5 && count <= 4 && total >= 4 && total <= 12;
      bool spaced_digits = len == 1 && digits && count >= 4 && count <= 8;  // "6 2 1 8 4 7"
      if (equal && (groups || spaced_digits)) {
        std::string value;
        for (std::size_t k = i; k <= j; ++k) value.append(s.substr(runs[k].begin, len));
        tokens.push_back({first.begin, last.end, first.begin, std::move(value),
                          digits ? Shape::kGroupedDigits : Shape::kGroupedUpper});
      }
      // Otherwise a phone number, a date, "INV-2024-0042": none of it is a code.
    }
    i = j + 1;
  }
  return tokens;
}

bool any_prefix(std::string_view s, std::initializer_list<std::string_view> options) {
  return std::any_of(options.begin(), options.end(),
                     [&](std::string_view o) { return s.substr(0, o.size()) == o; });
}
bool any_suffix(std::string_view s, std::initializer_list<std::string_view> options) {
  return std::any_of(options.begin(), options.end(), [&](std::string_view o) {
    return s.size() >= o.size() && s.substr(s.size() - o.size()) == o;
  });
}

// Prices, dates, times, decimals, phone numbers, colours, parts of words, URLs
// and addresses: the neighbours of a token that show it is something else.
bool looks_like_other_number(std::string_view s, std::size_t begin, std::size_t end) {
  auto at = [&](std::size_t i, std::ptrdiff_t d) -> char {
    auto k = static_cast<std::ptrdiff_t>(i) + d;
    return k >= 0 && k < static_cast<std::ptrdiff_t>(s.size()) ? s[static_cast<std::size_t>(k)]
                                                               : '\0';
  };
  char p1 = at(begin, -1), p2 = at(begin, -2), n1 = at(end, 0), n2 = at(end, 1);
  if (p1 != '\0' && std::string_view("#@/\\=&?%_+$").find(p1) != std::string_view::npos)
    return true;
  if (n1 != '\0' && std::string_view("@%_/\\=+$").find(n1) != std::string_view::npos) return true;
  if (std::string_view(".,:").find(p1) != std::string_view::npos && p1 != '\0' && is_digit(p2))
    return true;
  if (std::string_view(".,:").find(n1) != std::string_view::npos && n1 != '\0' && is_digit(n2))
    return true;
  if ((p1 == '-' && is_alnum(p2)) || (n1 == '-' && is_alnum(n2))) return true;
  if (p1 == '(' || (p1 == ' ' && p2 == ')')) return true;
  std::string_view before = s.substr(0, begin);
  if (!before.empty() && before.back() == ' ') before.remove_suffix(1);
  if (any_suffix(before,
                 {"$",   "€",   "£",   "¥",   "₽", "₹",   "￥", "USD", "EUR", "GBP", "CHF",
                  "RUB", "JPY", "CNY", "No.", "no.", "Nr.", "nº", "n°",  "n.º", "n.°", "№"}))
    return true;
  std::string_view after = s.substr(end);
  if (!after.empty() && after.front() == ' ') after.remove_prefix(1);
  return any_prefix(after,
                    {"€",  "$",  "£",  "¥",  "₽", "₹",  "%",  "USD", "EUR", "GBP", "CHF", "руб",
                     "р.", "円", "元", "kr", "zł",  "年", "月", "日",  "时",  "時",  "点"});
}

bool is_year(const Token& t) {
  if (t.shape != Shape::kDigits || t.value.size() != 4) return false;
  int year = std::stoi(t.value);
  return year >= 1900 && year <= 2099;
}

std::size_t words_in(std::string_view s) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : s) {
    bool blank = is_blank(c);
    if (!blank && !in_word) ++words;
    in_word = !blank;
  }
  return words;
}

struct Occurrence {
  std::string value;
  int score = 0;
  std::string reason;
  std::string context;
};

void add(Occurrence& o, int points, std::string_view what) {
  o.score += points;
  if (!o.reason.empty()) o.reason += "; ";
  o.reason += what;
}

std::string quoted(std::string_view text, const Keyword& k) {
  std::string out;
  out.reserve(k.end - k.begin + 2);
  out.push_back('\'');
  out.append(text.substr(k.begin, k.end - k.begin));
  out.push_back('\'');
  return out;
}

// Scores tokens[i] of `t`; nullopt when it cannot be a code at all.
std::optional<Occurrence> score(const Text& t, const std::vector<Token>& tokens, std::size_t i,
                                bool message_has_code_word, bool subject) {
  const Token& tok = tokens[i];
  std::string_view s = t.text();
  Occurrence o{tok.value, 0, {}, {}};
  if (subject) add(o, 0, "in the subject");

  switch (tok.shape) {
    case Shape::kDigits:
      add(o, tok.value.size() == 6 ? 15 : tok.value.size() <= 8 ? 10 : 0, "digits");
      break;
    case Shape::kGroupedDigits:
      add(o, 15, "grouped digits");
      break;
    case Shape::kUpperAlnum:
      add(o, 10, "capitals and digits");
      break;
    case Shape::kGroupedUpper:
      add(o, 10, "grouped capitals");
      break;
    case Shape::kPattern:
      add(o, 50, "matches the pattern");
      break;
    case Shape::kUpperAlpha:
    case Shape::kMixed:
    case Shape::kLong:
      break;
  }
  if (is_year(tok)) add(o, -30, "looks like a year");

  std::uint8_t flags = t.styled_flags(tok.begin, tok.end);
  bool alone = t.alone_on_line(tok.begin, tok.end);

  // The label before it: the nearest keyword, unless another code-shaped token
  // sits between them and took it.
  bool presented = false;
  int label = 0;
  const Token* prev = nullptr;
  for (std::size_t k = i; k-- > 0;)
    if (tokens[k].owns_keyword()) {
      prev = &tokens[k];
      break;
    }
  if (const Keyword* kw = t.keyword_before(tok.check_begin);
      kw && (!prev || prev->end <= kw->end)) {
    std::size_t breaks = t.line_breaks(kw->end, tok.check_begin);
    std::size_t gap = tok.check_begin - kw->end;
    std::string_view between = s.substr(kw->end, gap);
    if (breaks == 0 && gap <= 24 && words_in(between) <= 3) {
      label = kw->positive ? 60 : -70;
      presented = kw->positive;
      add(o, label, (kw->positive ? "right after " : "labelled ") + quoted(s, *kw));
    } else if (breaks == 0 && gap <= 80) {
      label = kw->positive ? 45 : -70;
      add(o, label, (kw->positive ? "after " : "labelled ") + quoted(s, *kw));
    } else if (breaks <= 3 && gap <= 200 && (alone || flags != 0)) {
      // A label on an earlier line names a value shown on its own ("Your code:\n482913").
      label = kw->positive ? 30 : -40;
      add(o, label, (kw->positive ? "below " : "below label ") + quoted(s, *kw));
    }
  }
  // Or the label after it: "482913 is your verification code".
  const Token* next = nullptr;
  for (std::size_t k = i + 1; k < tokens.size(); ++k)
    if (tokens[k].owns_keyword()) {
      next = &tokens[k];
      break;
    }
  if (const Keyword* kw = t.keyword_after(tok.end);
      kw && label <= 0 && (!next || next->begin >= kw->begin)) {
    std::size_t gap = kw->begin - tok.end;
    if (t.line_breaks(tok.end, kw->begin) == 0 && gap <= 40) {
      int points = kw->positive ? (gap <= 20 ? 50 : 40) : (label < 0 ? 0 : -40);
      if (points != 0) {
        presented = presented || (kw->positive && gap <= 20);
        add(o, points, (kw->positive ? "before " : "before label ") + quoted(s, *kw));
        if (points > 0) label = points;
      }
    }
  }

  if (flags & kCodeStyle) {
    add(o, message_has_code_word ? 45 : 20, "styled as a code");
    presented = true;
  } else if ((flags & kBox) && (flags & kEmphasis)) {
    add(o, message_has_code_word ? 35 : 15, "bold in a box");
    presented = true;
  } else if (flags != 0) {
    add(o, 15, (flags & kBox) ? "alone in a box" : "bold");
  }
  if (alone) add(o, 10, "on a line of its own");

  bool needs_presentation =
      tok.shape == Shape::kUpperAlpha || tok.shape == Shape::kMixed || tok.shape == Shape::kLong;
  if (needs_presentation && !presented) return std::nullopt;
  // A word in capitals is a heading ("WELCOME") unless a label names it a code.
  if (tok.shape == Shape::kUpperAlpha && label <= 0) return std::nullopt;
  if (o.score + 10 >= kListed) o.context = t.context(tok.begin, tok.end);  // only for candidates
  return o;
}

std::vector<Token> pattern_tokens(const RE2& re, const Text& t) {
  std::vector<Token> tokens;
  std::string_view s = t.text();
  int groups = std::min(re.NumberOfCapturingGroups(), 1);
  std::array<re2::StringPiece, 2> m;
  re2::StringPiece input(s.data(), s.size());
  std::size_t pos = 0;
  while (pos <= s.size() && re.Match(input, pos, s.size(), RE2::UNANCHORED, m.data(), groups + 1)) {
    re2::StringPiece whole = m[0];
    re2::StringPiece value = groups > 0 ? m[1] : m[0];
    std::size_t whole_end = static_cast<std::size_t>(whole.data() - s.data()) + whole.size();
    pos = whole.empty() ? whole_end + 1 : whole_end;
    if (value.data() == nullptr || value.empty()) continue;
    std::size_t begin = static_cast<std::size_t>(value.data() - s.data());
    std::size_t end = begin + value.size();
    if (t.masked(begin, end)) continue;
    tokens.push_back({begin, end, begin, std::string(value.data(), value.size()), Shape::kPattern});
  }
  return tokens;
}

}  // namespace

OtpResult find_otp(const Rendered& body, std::string_view subject, const OtpOptions& options) {
  std::optional<RE2> pattern;
  if (!options.pattern.empty()) {
    pattern.emplace(options.pattern, RE2::Quiet);
    if (!pattern->ok())
      throw std::invalid_argument("OtpOptions::pattern \"" + options.pattern +
                                  "\" is not a valid RE2 pattern (" + pattern->error() +
                                  "); fix the pattern or leave it empty");
  }

  const Text texts[] = {Text(subject, nullptr, nullptr),
                        Text(body.text, &body.styled, &bare_urls(body))};
  bool has_code_word = texts[0].has_code_word() || texts[1].has_code_word();

  std::vector<Occurrence> merged;
  std::vector<int> seen;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t which = 0; which < 2; ++which) {
    const Text& t = texts[which];
    std::vector<Token> tokens = pattern ? pattern_tokens(*pattern, t) : find_tokens(t.text());
    if (!pattern) {
      std::erase_if(tokens, [&](const Token& tok) {
        return t.masked(tok.check_begin, tok.end) ||
               looks_like_other_number(t.text(), tok.check_begin, tok.end);
      });
    }
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (options.length && tokens[i].value.size() != *options.length) continue;
      auto o = score(t, tokens, i, has_code_word, which == 0);
      if (!o) continue;
      auto [it, inserted] = index.try_emplace(o->value, merged.size());
      if (inserted) {
        merged.push_back(std::move(*o));
        seen.push_back(1);
      } else {
        ++seen[it->second];
        if (o->score > merged[it->second].score) merged[it->second] = std::move(*o);
      }
    }
  }
  for (std::size_t i = 0; i < merged.size(); ++i) {
    if (seen[i] > 1) {
      int bonus = std::min(10, 5 * (seen[i] - 1));
      add(merged[i], bonus, "shown " + std::to_string(seen[i]) + " times");
    }
  }
  std::stable_sort(merged.begin(), merged.end(),
                   [](const Occurrence& a, const Occurrence& b) { return a.score > b.score; });

  OtpResult result;
  int accept = kAccept - (options.length ? 10 : 0);
  for (Occurrence& o : merged) {
    if (o.score < kListed || result.candidates.size() == kMaxListed) break;
    result.candidates.push_back(
        {std::move(o.value), o.score, std::move(o.reason), std::move(o.context)});
  }
  const auto& c = result.candidates;
  if (c.empty() || c[0].score < accept) return result;
  if (c.size() > 1 && c[1].score >= accept && c[0].score - c[1].score < kAmbiguityMargin) {
    result.ambiguous = true;
    return result;
  }
  result.code = c[0].value;
  return result;
}

}  // namespace tempmail::detail
