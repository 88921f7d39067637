// Links: anchors and bare URLs in document order, URL parts with Boost.URL, and
// the ranking that finds the link a verification email asks you to follow.
#include "extract/links.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <optional>
#include <stdexcept>
#include <unordered_map>

namespace tempmail::detail {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string to_lower(std::string&& s) {
  for (char& c : s) c = lower(c);
  return std::move(s);
}

// `part` is lower case.
bool ifind(std::string_view s, std::string_view part) {
  if (part.size() > s.size()) return false;
  for (std::size_t i = 0; i + part.size() <= s.size(); ++i) {
    std::size_t k = 0;
    while (k < part.size() && lower(s[i + k]) == part[k]) ++k;
    if (k == part.size()) return true;
  }
  return false;
}

// `suffix` is lower case.
bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && ifind(s.substr(s.size() - suffix.size()), suffix);
}

// `prefix` is lower case.
bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ifind(s.substr(0, prefix.size()), prefix);
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 3986 allows these outside percent-encoding; '%' only before two hex digits.
bool uri_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  static constexpr std::string_view kAllowed = "-._~:/?#[]@!$&'()*+,;=";
  return kAllowed.find(c) != std::string_view::npos;
}

// A parsed URL: a view of the text when it parses as it is (no copy), else
// of an escaped copy that it owns.
class ParsedUrl {
 public:
  explicit ParsedUrl(boost::urls::url_view view) : view_(view) {}
  explicit ParsedUrl(boost::urls::url owned) : owned_(std::move(owned)) {}

  const boost::urls::url_view_base& operator*() const {
    return owned_ ? static_cast<const boost::urls::url_view_base&>(*owned_) : view_;
  }
  const boost::urls::url_view_base* operator->() const { return &**this; }

 private:
  boost::urls::url_view view_;
  std::optional<boost::urls::url> owned_;
};

// Browsers accept hrefs with spaces, non-ASCII and stray '%'; a strict parser
// does not. Escape what RFC 3986 forbids (keeping the first '#') and parse again.
// The result may refer to `text`.
std::optional<ParsedUrl> parse_url(std::string_view text) {
  if (auto parsed = boost::urls::parse_uri_reference(text)) return ParsedUrl(*parsed);
  std::string escaped;
  escaped.reserve(text.size() + 16);
  bool seen_hash = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool keep = c == '%' ? (i + 2 < text.size() && is_hex(text[i + 1]) && is_hex(text[i + 2]))
                         : uri_char(c);
    if (c == '#') {
      keep = !seen_hash;
      seen_hash = true;
    }
    if (keep) {
      escaped.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      auto b = static_cast<unsigned char>(c);
      escaped.push_back('%');
      escaped.push_back(kHex[b >> 4]);
      escaped.push_back(kHex[b & 15]);
    }
  }
  if (auto parsed = boost::urls::parse_uri_reference(escaped))
    return ParsedUrl(boost::urls::url(*parsed));
  return std::nullopt;
}

// WHATWG URL parsing drops leading/trailing C0 controls and spaces and every
// tab and newline inside; do the same so the URL is what a click would open.
std::string clean_href(std::string_view href) {
  while (!href.empty() && static_cast<unsigned char>(href.front()) <= 0x20) href.remove_prefix(1);
  while (!href.empty() && static_cast<unsigned char>(href.back()) <= 0x20) href.remove_suffix(1);
  std::string out;
  out.reserve(href.size());
  for (char c : href)
    if (c != '\t' && c != '\n' && c != '\r') out.push_back(c);
  return out;
}

LinkKind classify(std::string_view url) {
  if (!url.empty() && url.front() == '#') return LinkKind::kFragment;
  std::size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) return LinkKind::kOther;
  std::string scheme = to_lower(url.substr(0, colon));
  for (char c : scheme)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
      return LinkKind::kOther;  // a relative path with ':' in it
  if (scheme == "http" || scheme == "https") return LinkKind::kWeb;
  if (scheme == "mailto") return LinkKind::kMailto;
  if (scheme == "tel") return LinkKind::kTel;
  return LinkKind::kOther;
}

// Visible text of a link on one line: line breaks and tabs become spaces.
std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    bool space = c == '\n' || c == '\t' || c == ' ';
    if (space) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Up to ~120 bytes of text before `pos`, back to the previous line break but one
// ("To confirm your address,\nclick here"). Cut at a UTF-8 character boundary.
std::string context_before(std::string_view text, std::size_t pos) {
  std::size_t from = pos > 120 ? pos - 120 : 0;
  int breaks = 0;
  for (std::size_t i = pos; i > from; --i) {
    if (text[i - 1] == '\n' && ++breaks == 2) {
      from = i;
      break;
    }
  }
  while (from < pos && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
  return one_line(text.substr(from, pos - from));
}

class LinkSink {
 public:
  explicit LinkSink(CollectedLinks& out) : out_(out) {}

  void add(Link link, std::string context) {
    std::vector<Link>* list = nullptr;
    switch (link.kind) {
      case LinkKind::kWeb:
        list = &out_.links.web;
        break;
      case LinkKind::kMailto:
        list = &out_.links.mailto;
        break;
      case LinkKind::kTel:
        list = &out_.links.tel;
        break;
      case LinkKind::kFragment:
        list = &out_.links.fragment;
        break;
      case LinkKind::kOther:
        list = &out_.links.other;
        break;
    }
    auto& seen = seen_[static_cast<std::size_t>(link.kind)];
    auto [it, inserted] = seen.try_emplace(link.url, list->size());
    if (!inserted) {
      Link& first = (*list)[it->second];
      if (first.text.empty() || (first.image && !link.image && !link.text.empty())) {
        if (!link.text.empty()) first.text = link.text;
        first.image = first.image && link.image;
      }
      if (link.kind == LinkKind::kWeb && out_.web_context[it->second].empty())
        out_.web_context[it->second] = std::move(context);
      return;
    }
    if (link.kind == LinkKind::kWeb) out_.web_context.push_back(std::move(context));
    list->push_back(std::move(link));
  }

 private:
  CollectedLinks& out_;
  std::array<std::unordered_map<std::string, std::size_t>, 5> seen_;
};

Link bare_link(std::string_view text, UrlSpan span) {
  Link link;
  link.text = std::string(text.substr(span.begin, span.end - span.begin));
  link.url = link.text;
  if (link.url.size() >= 4 && to_lower(link.url.substr(0, 4)) == "www.")
    link.url.insert(0, "http://");
  link.kind = classify(link.url);
  link.in_anchor = false;
  return link;
}

}  // namespace

std::vector<UrlSpan> find_bare_urls(std::string_view text) {
  // Stops at whitespace, quotes, angle brackets, and Unicode spaces, punctuation
  // and CJK text, which never end a URL in running text ("链接：https://a.b/c。").
  static const RE2 kUrl(
      R"((?i)(?:https?://|www\.)[^\s<>"'`\x{00A0}\x{2000}-\x{206F}\x{3000}-\x{30FF})"
      R"(\x{3400}-\x{9FFF}\x{AC00}-\x{D7AF}\x{F900}-\x{FAFF}\x{FE30}-\x{FE4F}\x{FF00}-\x{FFEF}]+)");
  std::vector<UrlSpan> spans;
  if (text.find("://") == std::string_view::npos && text.find("ww.") == std::string_view::npos &&
      text.find("WW.") == std::string_view::npos)
    return spans;
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece match;
  std::size_t pos = 0;
  while (pos < text.size() && kUrl.Match(input, pos, text.size(), RE2::UNANCHORED, &match, 1)) {
    std::size_t begin = static_cast<std::size_t>(match.data() - text.data());
    std::size_t end = begin + match.size();
    pos = end;
    bool www = lower(text[begin]) == 'w';
    if (begin > 0) {
      char prev = text[begin - 1];
      bool word = (prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z') ||
                  (prev >= '0' && prev <= '9');
      if (word || (www && (prev == '.' || prev == '@' || prev == '/' || prev == '-'))) continue;
    }
    // Trailing punctuation ends the sentence, not the URL; a closing bracket
    // belongs to the URL only when it has its opening one ("wiki/A_(b)").
    while (end > begin) {
      char c = text[end - 1];
      if (std::string_view(".,;:!?*").find(c) != std::string_view::npos) {
        --end;
        continue;
      }
      char open = c == ')' ? '(' : c == ']' ? '[' : c == '}' ? '{' : 0;
      if (open != 0) {
        std::string_view url = text.substr(begin, end - begin);
        if (std::count(url.begin(), url.end(), open) < std::count(url.begin(), url.end(), c)) {
          --end;
          continue;
        }
      }
      break;
    }
    std::string_view url = text.substr(begin, end - begin);
    std::size_t rest = www ? 4 : url.find("://") + 3;
    if (url.size() <= rest) continue;  // "https://" and nothing after it
    spans.push_back({begin, end});
  }
  return spans;
}

const std::vector<UrlSpan>& bare_urls(const Rendered& rendered) {
  if (!rendered.bare_urls) rendered.bare_urls = find_bare_urls(rendered.text);
  return *rendered.bare_urls;
}

CollectedLinks collect_links(const Rendered& rendered) {
  CollectedLinks out;
  LinkSink sink(out);
  const std::string& text = rendered.text;
  const std::vector<UrlSpan>& bare = bare_urls(rendered);
  std::size_t next_bare = 0;
  auto add_bare_before = [&](std::size_t limit) {
    for (; next_bare < bare.size() && bare[next_bare].begin < limit; ++next_bare)
      sink.add(bare_link(text, bare[next_bare]), context_before(text, bare[next_bare].begin));
  };
  for (const Anchor& a : rendered.anchors) {
    add_bare_before(a.begin);
    // Bare URLs inside the anchor are its text, not links of their own.
    while (next_bare < bare.size() && bare[next_bare].begin < a.end) ++next_bare;
    Link link;
    link.url = clean_href(a.href);
    if (link.url.empty()) continue;
    link.text = one_line(std::string_view(text).substr(a.begin, a.end - a.begin));
    if (link.text.empty()) {
      link.text = one_line(a.fallback);
      link.image = a.image;
    }
    link.kind = classify(link.url);
    sink.add(std::move(link), context_before(text, a.begin));
  }
  add_bare_before(text.size());
  return out;
}

// --- Ranking --------------------------------------------------------------------------
namespace {

const RE2& verify_words() {
  static const RE2 re(
      R"((?i)verif|vérif|confirm|activat|activer|activar|ativar|aktivier|bestätig|validat|)"
      R"(valider|validar|magic|\bsign[ -]?in\b|\blog[ -]?in\b|\bsignin|\blogin|anmelden|einloggen|)"
      R"(connexion|connecter|iniciar sesi|\bentrar\b|\breset|zurücksetzen|réinitialis|restablec|)"
      R"(redefini|set (?:your |a )?password|подтверд|активир|войти|сброс|验证|驗證|确认|確認|)"
      R"(激活|登录|登錄|重置|認証|有効化|ログイン|再設定)");
  return re;
}

const RE2& verify_url_words() {
  static const RE2 re(
      R"((?i)verif|confirm|activat|magic|log-?in|sign-?in|sign_in|reset|validat|auth|token|otp|)"
      R"(passwordless|callback|invite|invitation|register|onboard)");
  return re;
}

const RE2& avoid_words() {
  static const RE2 re(
      R"((?i)unsubscribe|opt[- ]?out|preferences|manage (?:your )?(?:subscription|email)|)"
      R"(privacy|\bterms\b|\blegal\b|cookie|\bhelp\b|support|\bfaq\b|contact|feedback|)"
      R"(view (?:it |this )?(?:email |message )?(?:in|on) (?:your |a |the )?browser|view online|)"
      R"(web ?version|view this email|online version|abmelden|abbestellen|datenschutz|impressum|)"
      R"(désabonn|desabonn|désinscri|confidentialit|darse de baja|cancelar (?:la )?suscripci|)"
      R"(privacidad|descadastr|cancelar inscri|privacidade|отписат|конфиденциальн|退订|取消订阅|)"
      R"(隐私|配信停止|プライバシー|ヘルプ|帮助)");
  return re;
}

bool host_is(std::string_view host, std::string_view domain) {
  if (host == domain) return true;
  return host.size() > domain.size() && host.ends_with(domain) &&
         host[host.size() - domain.size() - 1] == '.';
}

bool social_host(std::string_view host) {
  static constexpr std::array<std::string_view, 20> kSocial = {
      "facebook.com",  "fb.com",      "twitter.com",  "x.com",       "linkedin.com",
      "instagram.com", "youtube.com", "youtu.be",     "tiktok.com",  "pinterest.com",
      "snapchat.com",  "reddit.com",  "whatsapp.com", "t.me",        "telegram.me",
      "vk.com",        "weibo.com",   "line.me",      "threads.net", "discord.gg"};
  return std::any_of(kSocial.begin(), kSocial.end(),
                     [&](std::string_view d) { return host_is(host, d); });
}

bool credential_key(std::string_view key) {
  for (std::string_view part :
       {"token", "code", "signature", "otp", "nonce", "ticket", "verif", "confirm", "magic"})
    if (ifind(key, part)) return true;
  for (std::string_view whole : {"key", "sig", "hash", "auth", "k", "t"})
    if (key.size() == whole.size() && ifind(key, whole)) return true;
  return false;
}

// A long run of letters and digits mixing both: what tokens look like.
bool random_looking(std::string_view s) {
  std::size_t run = 0;
  bool digit = false;
  bool alpha = false;
  for (char c : s) {
    bool d = c >= '0' && c <= '9';
    bool a = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (d || a || c == '-' || c == '_') {
      ++run;
      digit = digit || d;
      alpha = alpha || a;
      if (run >= 16 && digit && alpha) return true;
    } else {
      run = 0;
      digit = alpha = false;
    }
  }
  return false;
}

bool image_path(std::string_view path) {
  for (std::string_view ext : {".gif", ".png", ".jpg", ".jpeg", ".webp", ".svg", ".bmp"})
    if (iends_with(path, ext)) return true;
  return ifind(path, "/pixel") || ifind(path, "/beacon") || ifind(path, "/open");
}

void note(ScoredLink& s, int points, std::string_view what) {
  s.score += points;
  if (!s.why.empty()) s.why += "; ";
  s.why += what;
  s.why += points >= 0 ? " (+" : " (";
  s.why += std::to_string(points);
  s.why += ")";
}

bool contains(const RE2& re, std::string_view s) {
  return !s.empty() && RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), re);
}

}  // namespace

std::vector<ScoredLink> rank(const std::vector<Link>& links,
                             const std::vector<std::string>& contexts, const LinkOptions& options) {
  std::optional<RE2> prefer;
  if (!options.prefer_pattern.empty()) {
    prefer.emplace(options.prefer_pattern, RE2::Quiet);
    if (!prefer->ok())
      throw std::invalid_argument("LinkOptions::prefer_pattern \"" + options.prefer_pattern +
                                  "\" is not a valid RE2 pattern (" + prefer->error() +
                                  "); fix the pattern or leave it empty");
  }
  std::string prefer_host = to_lower(options.prefer_host);

  std::vector<ScoredLink> ranked;
  ranked.reserve(links.size());
  std::string text_and_url;
  for (std::size_t i = 0; i < links.size(); ++i) {
    const Link& link = links[i];
    ScoredLink s{link, 0, {}};
    if (link.kind != LinkKind::kWeb) {
      note(s, -100, "not a web link");
      ranked.push_back(std::move(s));
      continue;
    }
    const std::optional<ParsedUrl> parsed = parse_url(link.url);
    const ParsedUrl* url = parsed ? &*parsed : nullptr;
    std::string host = url ? to_lower((*url)->host()) : std::string{};
    std::string path = url ? (*url)->path() : std::string{};
    std::string_view context = i < contexts.size() ? std::string_view(contexts[i]) : "";

    if (!prefer_host.empty() && host_is(host, prefer_host)) note(s, 100, "preferred host");
    if (prefer && RE2::PartialMatch(link.url, *prefer)) note(s, 100, "matches preferred pattern");

    // A link whose text is its URL says nothing the path does not say.
    bool text_is_url = istarts_with(link.text, "http://") || istarts_with(link.text, "https://") ||
                       istarts_with(link.text, "www.");
    if (!text_is_url && contains(verify_words(), link.text)) {
      note(s, 40, "text says verify/confirm/sign in");
    } else if (contains(verify_words(), context)) {
      note(s, 20, "text before it says verify/confirm");
    }
    if (contains(verify_url_words(), path)) note(s, 25, "path says verify/confirm/sign in");
    bool credential = false;
    bool random_value = random_looking(path);
    if (url) {
      for (auto param : (*url)->params()) {
        credential =
            credential || (param.has_value && !param.value.empty() && credential_key(param.key));
        random_value = random_value || random_looking(param.value);
      }
    }
    if (credential) note(s, 20, "query carries a token or code");
    if (random_value) note(s, 10, "carries a long random value");

    // One search over both: no alternative of the pattern matches a line break,
    // so none matches across the joint, and \b sees the break as it sees an end.
    text_and_url.assign(link.text).append(1, '\n').append(link.url);
    if (contains(avoid_words(), text_and_url))
      note(s, -60, "unsubscribe, privacy, terms, help or view-in-browser");
    if (social_host(host)) note(s, -80, "social network");
    if (link.image) note(s, -25, "image link");
    if (image_path(path)) note(s, -40, "image or tracking pixel");
    if ((path.empty() || path == "/") && (!url || !(*url)->has_query())) note(s, -20, "home page");
    ranked.push_back(std::move(s));
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const ScoredLink& a, const ScoredLink& b) { return a.score > b.score; });
  return ranked;
}

std::optional<Link> best_verification_link(const std::vector<ScoredLink>& ranked) {
  // Text alone (40), a path with a token (45) or the text before it with a
  // token-like value (30) is enough; a path word alone ("/cli/login") is not.
  constexpr int kMinScore = 30;
  if (ranked.empty() || ranked.front().score < kMinScore) return std::nullopt;
  return ranked.front().link;
}

}  // namespace tempmail::detail

// --- Link: URL parts -----------------------------------------------------------------------
namespace tempmail {

std::string Link::scheme() const {
  auto u = detail::parse_url(url);
  return u ? detail::to_lower(std::string_view((*u)->scheme())) : std::string{};
}

std::string Link::host() const {
  auto u = detail::parse_url(url);
  return u ? detail::to_lower((*u)->host()) : std::string{};
}

std::string Link::path() const {
  auto u = detail::parse_url(url);
  return u ? std::string((*u)->path()) : std::string{};
}

std::optional<std::string> Link::query_param(std::string_view name) const {
  auto u = detail::parse_url(url);
  if (!u) return std::nullopt;
  for (auto param : (*u)->params(boost::urls::encoding_opts{true}))
    if (param.key == name) return param.value;
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> Link::query_params() const {
  std::vector<std::pair<std::string, std::string>> out;
  auto u = detail::parse_url(url);
  if (!u) return out;
  for (auto param : (*u)->params(boost::urls::encoding_opts{true}))
    out.emplace_back(param.key, param.value);
  return out;
}

std::string Link::fragment() const {
  auto u = detail::parse_url(url);
  return u ? std::string((*u)->fragment()) : std::string{};
}

}  // namespace tempmail
