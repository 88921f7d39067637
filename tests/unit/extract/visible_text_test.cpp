#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "tempmail/extract.hpp"

namespace tempmail {
namespace {

using samples::fixture;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(VisibleText, LeavesOutHeadStyleScriptAndComments) {
  std::string text = visible_text(
      "<html><head><title>Title</title><style>p{color:red}</style></head>"
      "<body><script>var x = 1;</script><!-- a comment --><p>Hello</p></body></html>");
  EXPECT_EQ(text, "Hello");
}

TEST(VisibleText, DecodesEntities) {
  EXPECT_EQ(visible_text("<p>Fish &amp; chips &lt;3 &eacute;t&eacute; &#8364;5 &#x41;</p>"),
            "Fish & chips <3 été €5 A");
}

TEST(VisibleText, TurnsBlockElementsIntoLineBreaks) {
  EXPECT_EQ(visible_text("<div>One</div><p>Two</p><h1>Three</h1><ul><li>Four</li><li>Five</li>"
                         "</ul><blockquote>Six</blockquote>"),
            "One\nTwo\nThree\nFour\nFive\nSix");
}

TEST(VisibleText, ReadsBrAsALineBreak) {
  EXPECT_EQ(visible_text("Line one<br>Line two<br/><br>Line four"),
            "Line one\nLine two\n\nLine four");
}

TEST(VisibleText, SeparatesTableCellsWithATabAndRowsWithALineBreak) {
  EXPECT_EQ(visible_text("<table><tr><td>Name</td><td>Qty</td></tr>"
                         "<tr><td>Socks</td><td>2</td></tr></table>"),
            "Name\tQty\nSocks\t2");
}

TEST(VisibleText, CollapsesWhitespaceLikeABrowser) {
  EXPECT_EQ(visible_text("<p>  Hello \n\t   <b>big</b>\n   world  </p>\n\n<p>\n  again </p>"),
            "Hello big world\nagain");
}

TEST(VisibleText, KeepsWhitespaceInPreformattedText) {
  EXPECT_EQ(visible_text("<p>Run:</p><pre>  make  all\n  make test</pre>"),
            "Run:\n  make  all\n  make test");
}

TEST(VisibleText, TreatsNonBreakingAndZeroWidthSpacesAsAPersonSeesThem) {
  EXPECT_EQ(visible_text("<p>Hello&nbsp;&nbsp;world&zwnj;&#8203;!&#847; Bye</p>"),
            "Hello world! Bye");
}

TEST(VisibleText, LeavesOutDisplayNoneElements) {
  EXPECT_EQ(visible_text("<p>Shown</p><div style=\"display: none\">Hidden</div>"), "Shown");
}

TEST(VisibleText, LeavesOutElementsWithTheHiddenAttribute) {
  EXPECT_EQ(visible_text("<p>Shown</p><div hidden>Hidden</div>"), "Shown");
}

TEST(VisibleText, LeavesOutZeroHeightElementsThatClipTheirContent) {
  EXPECT_EQ(visible_text("<div style=\"max-height:0px;overflow:hidden\">Preview</div><p>Body</p>"),
            "Body");
  EXPECT_EQ(visible_text("<div style=\"max-height:0\">Not clipped</div>"), "Not clipped");
}

TEST(VisibleText, LeavesOutZeroOpacityAndInvisibleText) {
  EXPECT_EQ(visible_text("<span style=\"opacity:0\">A</span><span style=\"visibility:hidden\">B"
                         "</span><span>C</span>"),
            "C");
}

TEST(VisibleText, LeavesOutZeroFontSizeTextButShowsChildrenThatResetIt) {
  // Templates set font-size:0 on layout cells to remove gaps between columns.
  EXPECT_EQ(visible_text("<table><tr><td style=\"font-size:0\">gap<div style=\"font-size:14px\">"
                         "Column</div></td></tr></table>"),
            "Column");
}

TEST(VisibleText, LeavesOutAriaHiddenPreheadersButNotOtherAriaHiddenText) {
  EXPECT_EQ(visible_text("<div class=\"preheader\" aria-hidden=\"true\">Preview text</div>"
                         "<p>Body</p>"),
            "Body");
  EXPECT_EQ(visible_text("<span aria-hidden=\"true\">&#9733;</span> Rated"), "★ Rated");
}

TEST(VisibleText, LeavesOutTheClassicPreheaderTrick) {
  std::string html = fixture("newsletter_numbers.html");
  std::string text = visible_text(html);
  EXPECT_THAT(text, Not(HasSubstr("up to 40% off")));
  EXPECT_THAT(text, HasSubstr("SPRING SALE 2025"));
  EXPECT_THAT(text, Not(HasSubstr("color:")));
}

TEST(VisibleText, ReadsARealSignupEmail) {
  std::string text = visible_text(fixture("otp_signup_digits.html"));
  EXPECT_THAT(text, HasSubstr("Confirm your email address\nHi Jamie,\nThanks for signing up"));
  EXPECT_THAT(text, HasSubstr("If you didn’t create an Acme account"));
  EXPECT_THAT(text, Not(HasSubstr("font-family")));
  EXPECT_THAT(text, Not(HasSubstr("\n\n\n")));
}

TEST(VisibleText, OfAPlainTextMessageIsTheContentWithLfLineEnds) {
  Message m = samples::text_message("Hello\r\nWorld\rAgain\n");
  EXPECT_EQ(visible_text(m), "Hello\nWorld\nAgain\n");
}

TEST(VisibleText, OfAnHtmlMessageIsRendered) {
  Message m = samples::html_message("<p>Hi</p><p>there</p>");
  EXPECT_EQ(visible_text(m), "Hi\nthere");
}

}  // namespace
}  // namespace tempmail
