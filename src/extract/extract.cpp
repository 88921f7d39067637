// The public extraction functions: each renders the body once and reads what it needs.
#include "tempmail/extract.hpp"

#include <ostream>

#include "extract/links.hpp"
#include "extract/otp.hpp"
#include "extract/render.hpp"

namespace tempmail {
namespace {

detail::Rendered render(const Message& message) {
  return message.html ? detail::render_html(message.content)
                      : detail::render_plain(message.content);
}

}  // namespace

std::string visible_text(std::string_view html) { return detail::render_html(html).text; }

std::string visible_text(const Message& message) { return render(message).text; }

Links links_in_html(std::string_view html) {
  return detail::collect_links(detail::render_html(html)).links;
}

Links links_in_text(std::string_view text) {
  return detail::collect_links(detail::render_plain(text)).links;
}

Links links(const Message& message) { return detail::collect_links(render(message)).links; }

std::vector<ScoredLink> rank_links(const Message& message, LinkOptions options) {
  detail::CollectedLinks collected = detail::collect_links(render(message));
  return detail::rank(collected.links.web, collected.web_context, options);
}

std::vector<ScoredLink> rank_links(const std::vector<Link>& links, LinkOptions options) {
  return detail::rank(links, {}, options);
}

std::optional<Link> verification_link(const Message& message, LinkOptions options) {
  return detail::best_verification_link(rank_links(message, std::move(options)));
}

OtpResult find_otp(const Message& message, OtpOptions options) {
  return detail::find_otp(render(message), message.subject, options);
}

OtpResult find_otp_in_html(std::string_view html, OtpOptions options, std::string_view subject) {
  return detail::find_otp(detail::render_html(html), subject, options);
}

OtpResult find_otp_in_text(std::string_view text, OtpOptions options, std::string_view subject) {
  return detail::find_otp(detail::render_plain(text), subject, options);
}

std::optional<std::string> otp(const Message& message, OtpOptions options) {
  return find_otp(message, std::move(options)).code;
}

Extraction extract(const Message& message, ExtractOptions options) {
  detail::Rendered rendered = render(message);
  detail::CollectedLinks collected = detail::collect_links(rendered);
  Extraction out;
  out.ranked_links = detail::rank(collected.links.web, collected.web_context, options.link);
  out.verification_link = detail::best_verification_link(out.ranked_links);
  out.otp = detail::find_otp(rendered, message.subject, options.otp);
  out.links = std::move(collected.links);
  out.text = std::move(rendered.text);
  return out;
}

// --- Printers ------------------------------------------------------------------------------

void PrintTo(LinkKind kind, std::ostream* os) {
  switch (kind) {
    case LinkKind::kWeb:
      *os << "web";
      return;
    case LinkKind::kMailto:
      *os << "mailto";
      return;
    case LinkKind::kTel:
      *os << "tel";
      return;
    case LinkKind::kFragment:
      *os << "fragment";
      return;
    case LinkKind::kOther:
      *os << "other";
      return;
  }
  *os << "LinkKind(" << static_cast<int>(kind) << ")";
}

void PrintTo(const Link& link, std::ostream* os) {
  *os << "Link{" << link.url << ", text=\"" << link.text << "\", ";
  PrintTo(link.kind, os);
  if (!link.in_anchor) *os << ", bare";
  if (link.image) *os << ", image";
  *os << "}";
}

std::ostream& operator<<(std::ostream& os, const Link& link) {
  PrintTo(link, &os);
  return os;
}

void PrintTo(const ScoredLink& link, std::ostream* os) {
  *os << "ScoredLink{score=" << link.score << ", ";
  PrintTo(link.link, os);
  *os << ", why=\"" << link.why << "\"}";
}

void PrintTo(const OtpCandidate& c, std::ostream* os) {
  *os << "OtpCandidate{\"" << c.value << "\", score=" << c.score << ", reason=\"" << c.reason
      << "\", context=\"" << c.context << "\"}";
}

void PrintTo(const OtpResult& r, std::ostream* os) {
  *os << "OtpResult{code=" << (r.code ? "\"" + *r.code + "\"" : std::string("none"));
  if (r.ambiguous) *os << ", ambiguous";
  *os << ", candidates=[";
  for (std::size_t i = 0; i < r.candidates.size(); ++i) {
    if (i != 0) *os << ", ";
    PrintTo(r.candidates[i], os);
  }
  *os << "]}";
}

}  // namespace tempmail
