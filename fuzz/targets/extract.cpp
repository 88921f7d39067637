// Mail bodies from strangers -> extraction (include/tempmail/extract.hpp).
// Input: one flags byte, then the body; with flag 0x02 its first line is the
// subject. Besides crashes: `extract` agrees with the single-purpose functions
// it stands for, a chosen code is the best candidate, and the pre-parse
// rewrite changes nothing that is rendered.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "extract/render.hpp"
#include "tempmail/extract.hpp"

namespace {

void touch(const tempmail::Link& link) {
  (void)link.scheme();
  (void)link.host();
  (void)link.path();
  (void)link.fragment();
  (void)link.query_param("token");
  for (const auto& [name, value] : link.query_params()) (void)link.query_param(name);
}

void check_otp(const tempmail::OtpResult& result) {
  if (result.code) {
    TEMPMAIL_FUZZ_CHECK(!result.ambiguous);
    TEMPMAIL_FUZZ_CHECK(!result.candidates.empty() && result.candidates.front().value == *result.code);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 256 * 1024) return 0;
  const std::uint8_t flags = data[0];
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view subject;
  if ((flags & 0x02) != 0) {
    const auto eol = body.find('\n');
    subject = body.substr(0, eol);
    body = eol == std::string_view::npos ? std::string_view() : body.substr(eol + 1);
  }

  tempmail::Message message;
  message.html = (flags & 0x01) != 0;
  message.subject = std::string(subject);
  message.content = std::string(body);
  tempmail::ExtractOptions options;
  if ((flags & 0x04) != 0) options.otp.pattern = "[0-9]{6}";
  if ((flags & 0x08) != 0) options.otp.length = 6;
  if ((flags & 0x10) != 0) options.link.prefer_host = "example.com";
  if ((flags & 0x20) != 0) options.link.prefer_pattern = "verify|confirm";

  const tempmail::Extraction all = tempmail::extract(message, options);
  check_otp(all.otp);
  for (const auto& list : {all.links.web, all.links.mailto, all.links.tel, all.links.fragment,
                           all.links.other})
    for (const auto& link : list) touch(link);

  // One parse or several: the same answers.
  TEMPMAIL_FUZZ_CHECK(all.text == tempmail::visible_text(message));
  TEMPMAIL_FUZZ_CHECK(all.links == tempmail::links(message));
  TEMPMAIL_FUZZ_CHECK(all.ranked_links == tempmail::rank_links(message, options.link));
  TEMPMAIL_FUZZ_CHECK(all.verification_link == tempmail::verification_link(message, options.link));
  TEMPMAIL_FUZZ_CHECK(all.otp == tempmail::find_otp(message, options.otp));
  if (all.verification_link) TEMPMAIL_FUZZ_CHECK(all.verification_link->kind == tempmail::LinkKind::kWeb);

  // What Gumbo is handed after the pre-parse rewrite (extract/prepare.hpp)
  // renders exactly as the body itself does.
  if (message.html)
    TEMPMAIL_FUZZ_CHECK(tempmail::detail::render_html(body) ==
                        tempmail::detail::render_html(body, tempmail::detail::Preparation::kAsIs));

  // The raw-input entry points on the other reading of the body.
  if (message.html) {
    check_otp(tempmail::find_otp_in_text(body, options.otp, subject));
    (void)tempmail::links_in_text(body);
  } else {
    check_otp(tempmail::find_otp_in_html(body, options.otp, subject));
    for (const auto& link : tempmail::links_in_html(body).web) touch(link);
    (void)tempmail::visible_text(body);
  }
  return 0;
}
