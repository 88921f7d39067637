/// @file extract.hpp
/// Reads a received message the way a person would: the text they see, the
/// links they can click, the verification link they are asked to follow and
/// the one-time code they are asked to type. Works on any `Message`, or on raw
/// HTML or plain text. Nothing here touches the network.
///
///   std::optional<std::string> code = tempmail::otp(message);
///   std::optional<tempmail::Link> link = tempmail::verification_link(message);
///   std::optional<std::string> token = link->query_param("token");
///
/// All functions are pure and thread-safe; none of them throws on any content
/// (broken HTML, invalid UTF-8, deep nesting). They throw std::invalid_argument
/// only for an invalid pattern in the options.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tempmail/message.hpp"

namespace tempmail {

// --- Text ---------------------------------------------------------------------

/// The text a person sees when `html` is displayed: no head, style, script or
/// comments; entities decoded; hidden elements (display:none, the `hidden`
/// attribute, zero font size, preheader tricks) left out; block elements and
/// <br> as line breaks, table cells separated by a tab; whitespace collapsed as
/// a browser does. No leading or trailing whitespace.
[[nodiscard]] std::string visible_text(std::string_view html);
/// The visible text of the message body: rendered when `html`, else the content
/// with CRLF line ends turned into LF. The subject is not included.
[[nodiscard]] std::string visible_text(const Message& message);

// --- Links --------------------------------------------------------------------

/// What a link points to, by its scheme.
enum class LinkKind {
  kWeb,       ///< http:// or https:// (bare "www." URLs are given "http://")
  kMailto,    ///< mailto:
  kTel,       ///< tel:
  kFragment,  ///< "#section": a place in the same message
  kOther,     ///< any other scheme (javascript:, cid:, ftp:, ...) or a relative reference
};

/// One link as a person sees it. The URL parts are read with a real URL parser
/// (percent-decoded, '+' in the query read as a space as web forms send it);
/// a URL that does not parse even after its unsafe characters are escaped
/// has an empty host and path and no query parameters.
struct Link {
  std::string url;   ///< as written: entities decoded, surrounding whitespace removed
  std::string text;  ///< visible text of the link; the image's alt text when it shows only an image
  LinkKind kind = LinkKind::kWeb;
  bool in_anchor = true;  ///< false for a bare URL found in text
  bool image = false;     ///< the anchor shows an image and no text

  /// "https", lower case; empty for a relative reference.
  [[nodiscard]] std::string scheme() const;
  /// "app.example.com", lower case, without port; empty when there is none.
  [[nodiscard]] std::string host() const;
  /// "/verify/abc", percent-decoded.
  [[nodiscard]] std::string path() const;
  /// The first value of query parameter `name` (case-sensitive), decoded;
  /// nullopt when the query has no such parameter. `?token` gives "".
  [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
  /// Every query parameter in order, decoded.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> query_params() const;
  /// The part after '#', decoded; empty when there is none.
  [[nodiscard]] std::string fragment() const;

  bool operator==(const Link&) const = default;
};

/// The links of a message, each list deduplicated by URL (the first occurrence
/// keeps its place; a link without text takes the text of a later duplicate)
/// and in document order.
struct Links {
  std::vector<Link> web;  ///< the links to follow
  std::vector<Link> mailto;
  std::vector<Link> tel;
  std::vector<Link> fragment;  ///< "#top" and other in-message anchors
  std::vector<Link> other;     ///< LinkKind::kOther

  bool operator==(const Links&) const = default;
};

/// Every `<a href>` that is not hidden, plus bare URLs in visible text outside links.
[[nodiscard]] Links links_in_html(std::string_view html);
/// Bare URLs in plain text ("https://...", "www..."); trailing punctuation
/// that ends the sentence (".", ",", ")", ">"...) is not part of the URL.
[[nodiscard]] Links links_in_text(std::string_view text);
/// The links of the message body (HTML or text, as `message.html` says).
[[nodiscard]] Links links(const Message& message);

/// How `verification_link` chooses.
struct LinkOptions {
  /// Links to this host or one of its subdomains rank first ("app.example.com").
  std::string prefer_host;
  /// RE2 pattern searched in the URL; links that match rank first.
  std::string prefer_pattern;
};

/// A link with the score the verification finder gave it.
struct ScoredLink {
  Link link;
  int score = 0;    ///< higher is more likely the link to follow; below 30 is never chosen
  std::string why;  ///< the signals that added up to the score, for failure messages

  bool operator==(const ScoredLink&) const = default;
};

/// The web links ranked by how much they look like "verify your address",
/// "confirm", "activate", "sign in", "reset password" (in English, Chinese,
/// Japanese, German, French, Spanish, Portuguese and Russian), by their text,
/// the text just before them, their path and their query (token=, code=,
/// signature=...), and away from unsubscribe, privacy, terms, help, social
/// networks, "view in browser", images and tracking pixels. Best first; equal
/// scores keep document order. Throws std::invalid_argument for a bad pattern.
[[nodiscard]] std::vector<ScoredLink> rank_links(const Message& message, LinkOptions options = {});
/// The same, for links you already have (e.g. from `links_in_html(html).web`).
[[nodiscard]] std::vector<ScoredLink> rank_links(const std::vector<Link>& links,
                                                 LinkOptions options = {});
/// The link a person would follow to verify, or nullopt when no link looks
/// like one (a newsletter, say).
[[nodiscard]] std::optional<Link> verification_link(const Message& message,
                                                    LinkOptions options = {});

// --- One-time codes -----------------------------------------------------------

/// How `find_otp` decides.
struct OtpOptions {
  /// RE2 pattern for the code, e.g. "[0-9]{6}" or "code: ([A-Z]{5})" (the first
  /// capturing group is the code when there is one). When set, only its matches
  /// are candidates; they are still ranked by keywords and styling.
  std::string pattern;
  /// Only codes of exactly this many characters (separators of grouped codes
  /// such as "123 456" not counted).
  std::optional<std::size_t> length;
};

/// A string that could be the code, and why.
struct OtpCandidate {
  std::string value;    ///< as a person would type it: "123456" for "123 456"
  int score = 0;        ///< higher is more likely
  std::string reason;   ///< the signals behind the score, e.g. "keyword before; styled box"
  std::string context;  ///< the text around it, on one line

  bool operator==(const OtpCandidate&) const = default;
};

/// The outcome of looking for a code.
struct OtpResult {
  /// The code, or nullopt when there is none or the choice is ambiguous.
  std::optional<std::string> code;
  /// Every plausible candidate, best first (the chosen code is the first).
  std::vector<OtpCandidate> candidates;
  /// Two strong candidates with different values: `code` is empty and the
  /// caller should look at `candidates` (or pass a pattern or length).
  bool ambiguous = false;

  bool operator==(const OtpResult&) const = default;
};

/// Looks for the one-time code a person would type, in the subject and the
/// visible body: 4 to 10 digits (also "123 456", "123-456") or upper-case
/// letters and digits near a keyword (code, OTP, PIN, one-time, verification,
/// and 验证码, 認証コード, Bestätigungscode, code de vérification, código, код
/// ...), or shown as a code (large, monospaced or letter-spaced, <code>, a bold
/// value alone in a box). Mixed-case codes and long tokens are taken only when
/// presented so. Years, dates, times, prices, phone numbers, order, invoice and
/// reference numbers, postal codes, colours and parts of URLs are not codes.
/// Throws std::invalid_argument when `options.pattern` is not valid RE2.
[[nodiscard]] OtpResult find_otp(const Message& message, OtpOptions options = {});
/// The same for raw HTML (and an optional subject).
[[nodiscard]] OtpResult find_otp_in_html(std::string_view html, OtpOptions options = {},
                                         std::string_view subject = {});
/// The same for plain text (and an optional subject).
[[nodiscard]] OtpResult find_otp_in_text(std::string_view text, OtpOptions options = {},
                                         std::string_view subject = {});
/// Just the code: `find_otp(message, options).code` (nullopt when ambiguous).
[[nodiscard]] std::optional<std::string> otp(const Message& message, OtpOptions options = {});

// --- Everything at once -------------------------------------------------------

/// Options for `extract`.
struct ExtractOptions {
  LinkOptions link{};
  OtpOptions otp{};
};

/// Everything extraction finds in one message, from a single parse.
struct Extraction {
  std::string text;                       ///< `visible_text(message)`
  Links links;                            ///< `links(message)`
  std::vector<ScoredLink> ranked_links;   ///< `rank_links(message)`
  std::optional<Link> verification_link;  ///< `verification_link(message)`
  OtpResult otp;                          ///< `find_otp(message)`

  bool operator==(const Extraction&) const = default;
};

/// Text, links, the verification link and the code, parsing the HTML once.
/// Use it when you need more than one of them from a large message.
[[nodiscard]] Extraction extract(const Message& message, ExtractOptions options = {});

/// GoogleTest-friendly printers (found by ADL): one readable line each.
void PrintTo(LinkKind kind, std::ostream* os);
void PrintTo(const Link& link, std::ostream* os);
void PrintTo(const ScoredLink& link, std::ostream* os);
void PrintTo(const OtpCandidate& candidate, std::ostream* os);
void PrintTo(const OtpResult& result, std::ostream* os);
std::ostream& operator<<(std::ostream& os, const Link& link);

}  // namespace tempmail
