// The visible text of a message body, with where its links and code-styled
// elements are: the one walk that links and OTP extraction both read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tempmail::detail {

/// An <a href> in document order; [begin, end) is its text in `Rendered::text`.
struct Anchor {
  std::string href;  // attribute value, entities decoded, not yet trimmed
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string fallback;  // img alt, else aria-label/title: used when the text is empty
  bool image = false;    // contains an <img>
  bool operator==(const Anchor&) const = default;
};

/// How an element that holds a short text presents it.
enum StyleFlag : std::uint8_t {
  kCodeStyle = 1,  // monospaced, letter-spaced, large font, <code>/<kbd>/<samp>/<tt>
  kEmphasis = 2,   // <strong>/<b>/<h1>-<h4>, bold
  kBox = 4,        // border, background or padding
};

/// An element whose whole (trimmed) text is [begin, end) of `Rendered::text`.
struct Styled {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::uint8_t flags = 0;
  bool operator==(const Styled&) const = default;
};

/// A bare URL in text: [begin, end) without trailing punctuation.
struct UrlSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
};

struct Rendered {
  std::string text;
  std::vector<Anchor> anchors;  // in document order
  std::vector<Styled> styled;   // short texts only, in order of their end
  bool html = false;
  // find_bare_urls(text), computed once for links and codes (see bare_urls()).
  mutable std::optional<std::vector<UrlSpan>> bare_urls;

  bool operator==(const Rendered& o) const {
    return text == o.text && anchors == o.anchors && styled == o.styled && html == o.html;
  }
};

/// kRewrite hands Gumbo the output of prepare_html() (same result, less work);
/// kAsIs parses the input as it is (the reference the tests compare against).
enum class Preparation : std::uint8_t { kRewrite, kAsIs };

/// Renders HTML with Gumbo (one parse, no recursion over the tree).
Rendered render_html(std::string_view html, Preparation preparation = Preparation::kRewrite);
/// Plain text: CRLF and CR become LF; nothing else changes.
Rendered render_plain(std::string_view text);

}  // namespace tempmail::detail
