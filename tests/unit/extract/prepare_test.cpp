// The rewrite that hands Gumbo less work (src/extract/prepare.hpp) must never
// change a rendering: each test renders with and without it and expects the
// same text, anchors and styled spans, and the spec-like cases also say what
// that rendering is.
#include "extract/prepare.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "extract/otp.hpp"
#include "extract/render.hpp"
#include "fixtures.hpp"
#include "html_generator.hpp"
#include "tempmail/extract.hpp"

namespace tempmail::detail {

void PrintTo(const Rendered& r, std::ostream* os) {
  *os << "Rendered{text=\"" << r.text << "\", anchors=[";
  for (const Anchor& a : r.anchors)
    *os << "{" << a.href << " " << a.begin << "-" << a.end << " \"" << a.fallback << "\""
        << (a.image ? " image" : "") << "} ";
  *os << "], styled=[";
  for (const Styled& s : r.styled)
    *os << "{" << s.begin << "-" << s.end << " " << static_cast<int>(s.flags) << "} ";
  *os << "]}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

// The rendering with the rewrite, after checking that it equals the one without.
Rendered render_both(std::string_view html) {
  Rendered fast = render_html(html, Preparation::kRewrite);
  Rendered plain = render_html(html, Preparation::kAsIs);
  EXPECT_EQ(fast, plain) << "for input:\n" << html;
  return fast;
}

std::uint16_t any_style(std::string_view) { return 0; }

std::string prepared(std::string_view html) {
  PreparedHtml p = prepare_html(html, any_style);
  return p.changed ? p.html : std::string(html);
}

// --- <style> and <script> content --------------------------------------------------

TEST(HtmlRewrite, EmptiesStyleContent) {
  std::string html = "<style>p { color: #123456 }</style><p>Visible</p>";
  EXPECT_EQ(render_both(html).text, "Visible");
  EXPECT_THAT(prepared(html), Not(HasSubstr("#123456")));
}

TEST(HtmlRewrite, StyleEndsAtEndTagInCapitalsFollowedBySpace) {
  EXPECT_EQ(render_both("<style>p{}</STYLE >Visible").text, "Visible");
}

TEST(HtmlRewrite, StyleEndsAtEndTagFollowedBySlash) {
  EXPECT_EQ(render_both("<style>p{}</style/>After").text, "After");
}

TEST(HtmlRewrite, LongerEndTagNameDoesNotEndStyle) {
  EXPECT_EQ(render_both("<p>a<style>b</styles>c</style>d</p>").text, "ad");
}

TEST(HtmlRewrite, EndTagWithQuotedGreaterThanEndsStyle) {
  EXPECT_EQ(render_both("<p>a<style>b</style\nfoo=\"<>\">c</p>").text, "ac");
}

TEST(HtmlRewrite, UnterminatedStyleRunsToTheEnd) {
  EXPECT_EQ(render_both("<p>Visible</p><style>p{} <p>Not text 482913").text, "Visible");
}

TEST(HtmlRewrite, ScriptHoldingCommentOpenerEndsWhereGumboEndsIt) {
  // "<!--<script>" enters the double-escaped state, where "</script>" does not end it.
  EXPECT_EQ(render_both("<script><!--<script>x</script>y</script>z").text, "z");
  EXPECT_EQ(render_both("<script>var a = \"<!--\";</script><p>After</p>").text, "After");
}

TEST(HtmlRewrite, EmptiesScriptContent) {
  std::string html = "<script>var code = 482913;</script><p>Visible</p>";
  EXPECT_EQ(render_both(html).text, "Visible");
  EXPECT_THAT(prepared(html), Not(HasSubstr("482913")));
}

TEST(HtmlRewrite, StyleInsideSvgIsMarkup) {
  // In SVG, <style> is an ordinary element; <b> then leaves foreign content.
  EXPECT_EQ(render_both("<svg><style><b>Bold</b></style></svg>").text, "Bold");
}

TEST(HtmlRewrite, StyleInsideSelectIsIgnored) {
  EXPECT_EQ(render_both("<select><style><b>x</b></style></select><p>After").text, "After");
}

TEST(HtmlRewrite, StyleInAttributeValuesIsNotATag) {
  Rendered r = render_both(
      "<p title=\"<style>\">Hello</p>"
      "<a href=\"https://a.test/x?token=abc\" data-x='<style>'>Link</a>");
  EXPECT_EQ(r.text, "Hello\nLink");
  ASSERT_EQ(r.anchors.size(), 1u);
  EXPECT_EQ(r.anchors[0].href, "https://a.test/x?token=abc");
}

TEST(HtmlRewrite, StyleInsideTextareaAndTitleIsText) {
  EXPECT_EQ(render_both("<title><style></title><textarea><style>x</textarea><p>After</p>").text,
            "<style>x\nAfter");
}

// --- Comments ---------------------------------------------------------------------

TEST(HtmlRewrite, EmptyCommentForms) {
  EXPECT_EQ(render_both("<p>a<!-->b<!--->c<!---->d</p>").text, "abcd");
}

TEST(HtmlRewrite, CommentEndsAtBangForm) {
  EXPECT_EQ(render_both("<p>a<!-- x --!>b</p>").text, "ab");
  EXPECT_EQ(render_both("<p>a<!-- x --!-> y -->b</p>").text, "ab");
}

TEST(HtmlRewrite, EmptiesOutlookConditionalComments) {
  std::string html =
      "<p>a<!--[if mso]><table><tr><td>MSO 111111</td></tr></table><![endif]-->b</p>";
  EXPECT_EQ(render_both(html).text, "ab");
  EXPECT_THAT(prepared(html), Not(HasSubstr("111111")));
}

TEST(HtmlRewrite, UnterminatedCommentRunsToTheEnd) {
  EXPECT_EQ(render_both("<p>Code 123456<!-- <p>hidden 999999").text, "Code 123456");
}

// --- Text, whitespace, attributes ------------------------------------------------------

TEST(HtmlRewrite, KeepsReferencesCarriageReturnsAndPreformattedSpaces) {
  Rendered r = render_both(
      "<div>\r\n   Tom &amp; Jerry&nbsp;&#x41;\r\n</div>\n\n   <pre>  a\r\n   b   c</pre>");
  EXPECT_EQ(r.text, "Tom & Jerry A\n  a\n   b   c");  // NBSP renders as a space
}

TEST(HtmlRewrite, CollapsesSpacesBetweenTagsOnlyBeforePre) {
  std::string html = "<table>\n    <tr>\n      <td>x</td>\n    </tr>\n</table><pre>\n\n  y</pre>";
  EXPECT_EQ(render_both(html).text, "x\n\n  y");
  EXPECT_THAT(prepared(html), HasSubstr("<pre>\n\n  y"));
  EXPECT_THAT(prepared(html), Not(HasSubstr("\n    <tr>")));
}

TEST(HtmlRewrite, KeepsInvalidUtf8AndControlCharacters) {
  static constexpr char kHtml[] = "<p>a\xFF b\xE2\x82 c\x01 d\0e \xC2\x80 f\xEF\xBF\xBE g</p>";
  render_both(std::string(kHtml, sizeof kHtml - 1));
}

TEST(HtmlRewrite, DropsAttributesNothingReads) {
  std::string html =
      "<table width=\"600\" cellpadding=\"0\" cellspacing=\"0\" role=\"presentation\">"
      "<tr><td valign=\"top\" align=\"center\"><img src=\"https://a.test/logo.png\" alt=\"Logo\" "
      "height=\"40\"></td></tr></table>";
  render_both(html);
  std::string out = prepared(html);
  for (std::string_view gone : {"width", "cellpadding", "role", "valign", "src", "height"})
    EXPECT_THAT(out, Not(HasSubstr(gone)));
  EXPECT_THAT(out, HasSubstr("alt=\"Logo\""));
}

TEST(HtmlRewrite, StyleMarkersKeepWhatStylesSay) {
  Rendered r = render_both(
      "<div style=\"display:none\">Your code is 111111</div>"
      "<p style=\"margin:0\">Your code is</p>"
      "<table><tr><td style=\"font-family:'Courier New',monospace;font-size:28px\">482913</td>"
      "</tr></table><p style=\"font-size:1px;color:#fff\">hidden 222222</p>");
  EXPECT_EQ(r.text, "Your code is\n482913");
  EXPECT_THAT(find_otp(r, "", {}).code, Optional(std::string("482913")));
}

TEST(HtmlRewrite, AnchorHrefMarkersKeepDecodedUrls) {
  Rendered r = render_both(
      "<a href=\"https://a.test/verify?token=T0k3nValue123456&amp;uid=7\">Verify email</a>"
      "<a href='https://b.test/?x=1&amp=2'>Other</a>");
  ASSERT_EQ(r.anchors.size(), 2u);
  EXPECT_EQ(r.anchors[0].href, "https://a.test/verify?token=T0k3nValue123456&uid=7");
  EXPECT_EQ(r.anchors[1].href, "https://b.test/?x=1&amp=2");
}

TEST(HtmlRewrite, KeepsGumboNamesAfterDuplicateValuelessAttribute) {
  // With max_errors = 0 Gumbo names the attribute after a valueless duplicate
  // with both names ("d" + "src"): dropping "src" must not rename "border".
  Rendered r = render_both("<m/D/D/src\nborder>o");
  EXPECT_THAT(r.styled, ElementsAre(Styled{0, 1, kBox}));
}

TEST(HtmlRewrite, KeepsFormattingElementAttributesForNoahsArk) {
  // Four <code> with two different styles: only equal attributes count as
  // "the same element", so summarising the styles would change the tree.
  render_both(
      "<p><code style=padding:><code style=background:><code style=background:>"
      "<code style=padding:></code></code></code><p>a");
}

TEST(HtmlRewrite, KeepsForeignElementAttributes) {
  // Dropping "src" would make "<math/>", which closes the element at once.
  render_both(std::string("<math/src>\0", 11));
}

TEST(HtmlRewrite, UsesNoMarkersWhenTheDocumentHasLookalikes) {
  for (std::string html : {std::string("<p>a \xF3\xB0\x80\x80 b 123456</p>"),
                           std::string("<p style=\"&#xF0001;\">a &#983040; b</p>")}) {
    render_both(html);
    EXPECT_FALSE(prepare_html(html, any_style).markers);
  }
}

TEST(HtmlRewrite, HandlesMoreTextRunsThanMarkers) {
  std::string html;
  for (int i = 0; i < 70000; ++i) html += "ab<br>";
  html += "Your code is 482913";
  Rendered r = render_both(html);
  EXPECT_THAT(r.text, HasSubstr("Your code is 482913"));
}

TEST(HtmlRewrite, ShrinksATypicalEmail) {
  std::string html = samples::fixture("otp_grouped_big_box.html");
  PreparedHtml p = prepare_html(html, any_style);
  EXPECT_TRUE(p.changed);
  EXPECT_TRUE(p.markers);
  EXPECT_FALSE(p.runs.empty());
  EXPECT_LT(p.html.size(), html.size());
}

TEST(HtmlRewrite, RendersEmptyInput) {
  // (A null data() must reach no memchr: the fuzz target's sanitizers caught one.)
  EXPECT_EQ(render_both(std::string_view()).text, "");
  EXPECT_FALSE(prepare_html(std::string_view(), any_style).changed);
}

// --- Whole documents -----------------------------------------------------------------

TEST(HtmlRewrite, FixturesRenderTheSame) {
  for (const auto& entry : std::filesystem::directory_iterator(TEMPMAIL_TEST_DATA_DIR)) {
    SCOPED_TRACE(entry.path().string());
    render_both(samples::fixture(entry.path().filename().string()));
  }
}

TEST(HtmlRewrite, FuzzSeedsRenderTheSame) {
  for (const auto& entry : std::filesystem::directory_iterator(TEMPMAIL_FUZZ_EXTRACT_CORPUS_DIR)) {
    SCOPED_TRACE(entry.path().string());
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    render_both(bytes.str());
  }
}

TEST(HtmlRewrite, RandomDocumentsRenderTheSame) {
  for (std::uint64_t seed = 1; seed <= 3000; ++seed) {
    samples::HtmlGenerator generator(seed);
    std::string html = generator.document(10 + static_cast<int>(seed % 50));
    Rendered fast = render_html(html, Preparation::kRewrite);
    Rendered plain = render_html(html, Preparation::kAsIs);
    ASSERT_EQ(fast, plain) << "seed " << seed << ", input:\n" << html;
  }
}

}  // namespace
}  // namespace tempmail::detail
