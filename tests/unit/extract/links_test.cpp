#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "tempmail/extract.hpp"

namespace tempmail {
namespace {

using samples::fixture;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::Pair;

auto HasUrl(const std::string& url) { return Field("url", &Link::url, url); }

TEST(Links, ListsEveryAnchorWithItsVisibleText) {
  Links l = links_in_html(
      "<p><a href=\"https://a.test/one\">First <b>link</b></a> and "
      "<a href=\"https://a.test/two\">\n  Second\n  link </a></p>");
  ASSERT_EQ(l.web.size(), 2u);
  EXPECT_EQ(l.web[0].url, "https://a.test/one");
  EXPECT_EQ(l.web[0].text, "First link");
  EXPECT_TRUE(l.web[0].in_anchor);
  EXPECT_EQ(l.web[1].text, "Second link");
}

TEST(Links, DecodesEntitiesInHref) {
  Links l = links_in_html("<a href=\"https://a.test/v?x=1&amp;token=abc&#38;y=2\">Go</a>");
  ASSERT_EQ(l.web.size(), 1u);
  EXPECT_EQ(l.web[0].url, "https://a.test/v?x=1&token=abc&y=2");
}

TEST(Links, RemovesWhitespaceAroundAndNewlinesInsideHref) {
  Links l = links_in_html("<a href=\"  https://a.test/very/\n  long?token=abc  \">Go</a>");
  ASSERT_EQ(l.web.size(), 1u);
  EXPECT_EQ(l.web[0].url, "https://a.test/very/  long?token=abc");
}

TEST(Links, UsesImageAltTextWhenTheLinkHasNoText) {
  Links l = links_in_html(
      "<a href=\"https://a.test/\"><img src=\"logo.png\" alt=\"Acme logo\"></a>"
      "<a href=\"https://a.test/x\"><img src=\"x.png\"></a>");
  ASSERT_EQ(l.web.size(), 2u);
  EXPECT_EQ(l.web[0].text, "Acme logo");
  EXPECT_TRUE(l.web[0].image);
  EXPECT_EQ(l.web[1].text, "");
  EXPECT_TRUE(l.web[1].image);
}

TEST(Links, FindsBareUrlsInHtmlTextOutsideAnchors) {
  Links l = links_in_html(
      "<p>Visit https://bare.test/page. Or <a href=\"https://anchor.test/\">"
      "https://anchor.test/</a></p>");
  EXPECT_THAT(l.web, ElementsAre(HasUrl("https://bare.test/page"), HasUrl("https://anchor.test/")));
  EXPECT_FALSE(l.web[0].in_anchor);
  EXPECT_EQ(l.web[0].text, "https://bare.test/page");
}

TEST(Links, DeduplicatesByUrlKeepingDocumentOrder) {
  Links l = links_in_html(
      "<a href=\"https://a.test/1\"><img alt=\"\" src=\"b.png\"></a>"
      "<a href=\"https://a.test/2\">Two</a>"
      "<a href=\"https://a.test/1\">One</a>"
      "<p>https://a.test/2 again</p>");
  EXPECT_THAT(l.web, ElementsAre(HasUrl("https://a.test/1"), HasUrl("https://a.test/2")));
  EXPECT_EQ(l.web[0].text, "One") << "an image link takes the text of a later duplicate";
  EXPECT_FALSE(l.web[0].image);
}

TEST(Links, SeparatesMailtoTelFragmentAndOtherLinks) {
  Links l = links_in_html(
      "<a href=\"#top\">Top</a><a href=\"mailto:help@a.test\">Mail us</a>"
      "<a href=\"tel:+15550100\">Call</a><a href=\"javascript:void(0)\">JS</a>"
      "<a href=\"HTTPS://a.test/\">Web</a><a href=\"/relative\">Rel</a><a>No href</a>");
  EXPECT_THAT(l.web, ElementsAre(HasUrl("HTTPS://a.test/")));
  EXPECT_THAT(l.mailto, ElementsAre(HasUrl("mailto:help@a.test")));
  EXPECT_THAT(l.tel, ElementsAre(HasUrl("tel:+15550100")));
  EXPECT_THAT(l.fragment, ElementsAre(HasUrl("#top")));
  EXPECT_THAT(l.other, ElementsAre(HasUrl("javascript:void(0)"), HasUrl("/relative")));
  EXPECT_EQ(l.mailto[0].kind, LinkKind::kMailto);
}

TEST(Links, LeavesOutLinksInHiddenElements) {
  Links l = links_in_html(
      "<div style=\"display:none\"><a href=\"https://hidden.test/\">x</a></div>"
      "<a href=\"https://shown.test/\">y</a>");
  EXPECT_THAT(l.web, ElementsAre(HasUrl("https://shown.test/")));
}

TEST(Links, EndsBareUrlsBeforeTrailingPunctuation) {
  Links l = links_in_text(
      "See https://a.test/one. Then https://a.test/two, and (https://a.test/three) or "
      "<https://a.test/four> or \"https://a.test/five\"! Done: https://a.test/six?x=1;");
  EXPECT_THAT(l.web, ElementsAre(HasUrl("https://a.test/one"), HasUrl("https://a.test/two"),
                                 HasUrl("https://a.test/three"), HasUrl("https://a.test/four"),
                                 HasUrl("https://a.test/five"), HasUrl("https://a.test/six?x=1")));
}

TEST(Links, KeepsBalancedBracketsInBareUrls) {
  Links l = links_in_text("Read https://en.wikipedia.test/wiki/Mail_(protocol).");
  EXPECT_THAT(l.web, ElementsAre(HasUrl("https://en.wikipedia.test/wiki/Mail_(protocol)")));
}

TEST(Links, GivesBareWwwUrlsAnHttpScheme) {
  Links l = links_in_text("Go to www.example.test/start, it is quick.");
  ASSERT_EQ(l.web.size(), 1u);
  EXPECT_EQ(l.web[0].url, "http://www.example.test/start");
  EXPECT_EQ(l.web[0].text, "www.example.test/start");
  EXPECT_EQ(l.web[0].host(), "www.example.test");
}

TEST(Links, EndsBareUrlsAtCjkPunctuation) {
  Links l = links_in_text("请点击链接：https://a.test/v?t=abc。谢谢");
  EXPECT_THAT(l.web, ElementsAre(HasUrl("https://a.test/v?t=abc")));
}

TEST(Links, ReadsAPlainTextEmail) {
  Links l = links_in_text(fixture("verify_plain_text.txt"));
  EXPECT_THAT(
      l.web,
      ElementsAre(
          HasUrl("https://accounts.tidewater.test/verify?token=Zm9vYmFyYmF6cXV4MTIz&user=8812"),
          HasUrl("https://tidewater.test/guides/getting-started"),
          HasUrl("http://www.tidewater.test/help"), HasUrl("https://tidewater.test/faq"),
          HasUrl("https://tidewater.test/unsubscribe?u=8812&sig=4e1a")));
}

TEST(Links, OfAMessageFollowItsContentType) {
  // In a text part, markup is just text: only what looks like a URL is a link.
  EXPECT_THAT(links(samples::text_message("<a href=x.test>x</a> https://y.test/")).web,
              ElementsAre(HasUrl("https://y.test/")));
  EXPECT_THAT(links(samples::html_message("<a href=x.test>x</a> https://y.test/")).other,
              ElementsAre(HasUrl("x.test")));
}

TEST(Link, ReadsQueryParametersHostAndPath) {
  Link link{.url =
                "https://App.Example.TEST:8443/auth/magic%20link?token=a%2Bb+c&empty=&flag&"
                "token=second#frag%21"};
  EXPECT_EQ(link.scheme(), "https");
  EXPECT_EQ(link.host(), "app.example.test");
  EXPECT_EQ(link.path(), "/auth/magic link");
  EXPECT_THAT(link.query_param("token"), Optional(std::string("a+b c")));
  EXPECT_THAT(link.query_param("empty"), Optional(std::string("")));
  EXPECT_THAT(link.query_param("flag"), Optional(std::string("")));
  EXPECT_EQ(link.query_param("missing"), std::nullopt);
  EXPECT_EQ(link.query_param("TOKEN"), std::nullopt);
  EXPECT_EQ(link.fragment(), "frag!");
  EXPECT_THAT(link.query_params(), ElementsAre(Pair("token", "a+b c"), Pair("empty", ""),
                                               Pair("flag", ""), Pair("token", "second")));
}

TEST(Link, ParsesHrefsThatBrowsersAcceptButTheRfcDoesNot) {
  Link link{.url = "https://a.test/path with space/ünï?token=x|y&q=100%"};
  EXPECT_EQ(link.host(), "a.test");
  EXPECT_EQ(link.path(), "/path with space/ünï");
  EXPECT_THAT(link.query_param("token"), Optional(std::string("x|y")));
  EXPECT_THAT(link.query_param("q"), Optional(std::string("100%")));
}

TEST(Link, HasNoPartsWhenTheUrlIsNotAUrl) {
  Link link{.url = "http://[not-an-ip/x?token=1", .kind = LinkKind::kOther};
  EXPECT_EQ(link.host(), "");
  EXPECT_EQ(link.query_param("token"), std::nullopt);
  EXPECT_THAT(link.query_params(), IsEmpty());
}

TEST(Link, PrintsReadably) {
  Link link{.url = "https://a.test/", .text = "Go", .in_anchor = false};
  EXPECT_EQ(::testing::PrintToString(link), "Link{https://a.test/, text=\"Go\", web, bare}");
}

}  // namespace
}  // namespace tempmail
