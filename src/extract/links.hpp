// Links of a rendered body, bare URLs in text, and the verification-link ranking.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "extract/render.hpp"
#include "tempmail/extract.hpp"

namespace tempmail::detail {

/// Bare URLs ("https://...", "www...") in `text`, in order.
std::vector<UrlSpan> find_bare_urls(std::string_view text);

/// find_bare_urls(rendered.text), found once per rendering.
const std::vector<UrlSpan>& bare_urls(const Rendered& rendered);

/// The links of a rendered body, with the text just before each web link (the
/// "to verify, click" in front of a "here"), parallel to `links.web`.
struct CollectedLinks {
  Links links;
  std::vector<std::string> web_context;
};

CollectedLinks collect_links(const Rendered& rendered);

/// Ranks `links` (contexts may be empty or parallel to `links`).
std::vector<ScoredLink> rank(const std::vector<Link>& links,
                             const std::vector<std::string>& contexts, const LinkOptions& options);

/// The best of `ranked` when it scores high enough to be a verification link.
std::optional<Link> best_verification_link(const std::vector<ScoredLink>& ranked);

}  // namespace tempmail::detail
