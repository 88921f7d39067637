#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "fixtures.hpp"
#include "tempmail/extract.hpp"

namespace tempmail {
namespace {

using samples::html_fixture;
using samples::html_message;
using samples::text_message;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;

auto Value(const std::string& v) { return Field("value", &OtpCandidate::value, v); }

// The values of every candidate, best first.
std::vector<std::string> values(const OtpResult& r) {
  std::vector<std::string> out;
  for (const auto& c : r.candidates) out.push_back(c.value);
  return out;
}

// --- Codes it finds -----------------------------------------------------------------

TEST(OtpExtraction, FindsADigitCodeInASignupEmail) {
  OtpResult r = find_otp(html_fixture("otp_signup_digits.html"));
  EXPECT_THAT(r.code, Optional(std::string("482913"))) << ::testing::PrintToString(r);
  EXPECT_FALSE(r.ambiguous);
  EXPECT_THAT(values(r), Not(Contains("94104")));
  EXPECT_THAT(values(r), Not(Contains("2024")));
}

TEST(OtpExtraction, FindsAGroupedCodeInABigStyledBoxWithoutItsSeparator) {
  OtpResult r = find_otp(html_fixture("otp_grouped_big_box.html"));
  EXPECT_THAT(r.code, Optional(std::string("739204"))) << ::testing::PrintToString(r);
  ASSERT_FALSE(r.candidates.empty());
  EXPECT_THAT(r.candidates[0].reason, HasSubstr("styled as a code"));
  EXPECT_THAT(values(r), ElementsAre("739204"));
}

TEST(OtpExtraction, FindsHyphenGroupedDigits) {
  EXPECT_THAT(find_otp_in_text("Your login code: 123-456").code, Optional(std::string("123456")));
}

TEST(OtpExtraction, FindsACodeAfterItsLabelOnTheLineAbove) {
  EXPECT_THAT(find_otp_in_text("Your verification code:\n\n    482913\n\nThanks!").code,
              Optional(std::string("482913")));
}

TEST(OtpExtraction, FindsACodeThatComesBeforeItsLabel) {
  EXPECT_THAT(find_otp_in_text("G-482913 is your Google verification code.").code,
              Optional(std::string("482913")));
  EXPECT_THAT(find_otp_in_text("Use 7731 as your PIN.").code, Optional(std::string("7731")));
}

TEST(OtpExtraction, FindsDigitsSpacedOneByOne) {
  EXPECT_THAT(find_otp_in_text("Use the following code to sign in: 6 2 1 8 4 7").code,
              Optional(std::string("621847")));
}

TEST(OtpExtraction, FindsABankCodeAfterTheAmount) {
  OtpResult r = find_otp_in_text(
      "Your one-time passcode (OTP) for transaction of INR 5,000.00 is 839201. Valid for 10 mins.");
  EXPECT_THAT(r.code, Optional(std::string("839201"))) << ::testing::PrintToString(r);
}

TEST(OtpExtraction, FindsCapitalsAndDigits) {
  EXPECT_THAT(find_otp_in_text("Your one-time code is K7X9PQ.").code,
              Optional(std::string("K7X9PQ")));
}

TEST(OtpExtraction, FindsAMixedCaseCodeInAMonospaceBox) {
  OtpResult r = find_otp(html_fixture("otp_mixed_case_monospace.html"));
  EXPECT_THAT(r.code, Optional(std::string("aB3dE9xQ"))) << ::testing::PrintToString(r);
  EXPECT_THAT(values(r), Not(Contains("7f3a9c21")));
  EXPECT_THAT(values(r), Not(Contains("20240512")));
}

TEST(OtpExtraction, FindsATwentyCharacterTokenShownAsCode) {
  OtpResult r = find_otp(html_fixture("otp_long_token.html"));
  EXPECT_THAT(r.code, Optional(std::string("Kx9fQ2mZ7pL4vR8tW1yB"))) << ::testing::PrintToString(r);
}

TEST(OtpExtraction, FindsALetterCodeGroupedWithAHyphen) {
  OtpResult r = find_otp(html_fixture("otp_hyphen_letters.html"));
  EXPECT_THAT(r.code, Optional(std::string("ABCDEFGH"))) << ::testing::PrintToString(r);
  EXPECT_THAT(values(r), Not(Contains("PAPERPLANE")));
  EXPECT_THAT(values(r), Not(Contains("EC1A")));
}

TEST(OtpExtraction, FindsACodeInTheSubject) {
  Message m = html_message("<p>Welcome back! Enter the code from the subject line.</p>",
                           "Your code is 318274");
  EXPECT_THAT(otp(m), Optional(std::string("318274")));
  Message reversed = text_message("Hi!", "318274 is your Acme verification code");
  EXPECT_THAT(otp(reversed), Optional(std::string("318274")));
}

TEST(OtpExtraction, CountsTheSameCodeInSubjectAndBodyOnce) {
  Message m = html_message("<p>Your code is <b>551203</b></p>", "551203 is your code");
  OtpResult r = find_otp(m);
  EXPECT_THAT(r.code, Optional(std::string("551203")));
  ASSERT_EQ(r.candidates.size(), 1u);
  EXPECT_THAT(r.candidates[0].reason, HasSubstr("shown 2 times"));
}

TEST(OtpExtraction, FindsTheCodeNextToAnOrderNumber) {
  OtpResult r = find_otp(html_fixture("otp_with_order_number.html"));
  EXPECT_THAT(r.code, Optional(std::string("5930"))) << ::testing::PrintToString(r);
  EXPECT_THAT(values(r), Not(Contains("4471902")));
  EXPECT_THAT(values(r), Not(Contains("88213377")));
}

struct LanguageFixture {
  const char* file;
  const char* code;
};

class OtpExtractionInLanguage : public ::testing::TestWithParam<LanguageFixture> {};

TEST_P(OtpExtractionInLanguage, FindsTheCodeAndNothingElse) {
  OtpResult r = find_otp(html_fixture(GetParam().file));
  EXPECT_THAT(r.code, Optional(std::string(GetParam().code))) << ::testing::PrintToString(r);
  EXPECT_FALSE(r.ambiguous);
  EXPECT_THAT(values(r), ElementsAre(GetParam().code)) << ::testing::PrintToString(r);
}

INSTANTIATE_TEST_SUITE_P(Languages, OtpExtractionInLanguage,
                         ::testing::Values(LanguageFixture{"otp_zh.html", "265183"},
                                           LanguageFixture{"otp_ja.html", "730916"},
                                           LanguageFixture{"otp_de.html", "518204"},
                                           LanguageFixture{"otp_fr.html", "904371"},
                                           LanguageFixture{"otp_es.html", "681530"},
                                           LanguageFixture{"otp_pt.html", "357921"},
                                           LanguageFixture{"otp_ru.html", "846102"}),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           return name.substr(4, name.size() - 9);  // otp_XX.html -> XX
                         });

TEST(OtpExtraction, FindsCodesLabelledInEachLanguageInPlainText) {
  for (const char* text :
       {"您的验证码为 482913", "校验码：482913", "动态码482913，请勿泄露", "認証コード: 482913",
        "確認コードは 482913 です", "ワンタイムパスワード 482913", "Ihr Sicherheitscode: 482913",
        "Code: 482913", "Votre code de vérification : 482913", "Tu código es 482913",
        "Seu código: 482913", "Ваш код: 482913", "Код подтверждения 482913"}) {
    EXPECT_THAT(find_otp_in_text(text).code, Optional(std::string("482913"))) << text;
  }
}

// --- Numbers it does not take -------------------------------------------------------

TEST(OtpExtraction, IgnoresCssColourCodes) {
  OtpResult r = find_otp(html_fixture("otp_css_colour.html"));
  EXPECT_THAT(r.code, Optional(std::string("640218"))) << ::testing::PrintToString(r);
  for (const char* colour : {"123456", "112233", "998877", "445566", "ABCDEF", "abcdef", "334455"})
    EXPECT_THAT(values(r), Not(Contains(colour)));
}

TEST(OtpExtraction, FindsNothingInANewsletterFullOfNumbers) {
  OtpResult r = find_otp(html_fixture("newsletter_numbers.html"));
  EXPECT_EQ(r.code, std::nullopt) << ::testing::PrintToString(r);
  EXPECT_FALSE(r.ambiguous);
  EXPECT_THAT(r.candidates, Each(Field("score", &OtpCandidate::score, ::testing::Lt(45))))
      << ::testing::PrintToString(r);
}

TEST(OtpExtraction, IgnoresYearsDatesAndTimes) {
  OtpResult r = find_otp_in_text(
      "Your code will be sent on 12/05/2024 at 10:30. Code valid from 2024-05-12 until "
      "12.05.2024, 14:05:30.");
  EXPECT_EQ(r.code, std::nullopt) << ::testing::PrintToString(r);
}

TEST(OtpExtraction, IgnoresPrices) {
  OtpResult r = find_otp_in_text(
      "Code SAVE: pay $1299 today, or 1299 € later, or USD 4999, or 4999 руб. Code: 20 %");
  EXPECT_EQ(r.code, std::nullopt) << ::testing::PrintToString(r);
}

TEST(OtpExtraction, IgnoresPhoneNumbers) {
  OtpResult r = find_otp_in_text(
      "Did not ask for a code? Call +1 (415) 555-0132 or 0800 123 4567 or 1-800-555-0199.");
  EXPECT_EQ(r.code, std::nullopt) << ::testing::PrintToString(r);
}

TEST(OtpExtraction, IgnoresOrderInvoiceAndReferenceNumbers) {
  OtpResult r = find_otp_in_text(
      "Security code sent. Order #123456. Order number: 654321. Invoice 778899. "
      "Reference: 88213377. Booking ref 445566.");
  EXPECT_EQ(r.code, std::nullopt) << ::testing::PrintToString(r);
}

TEST(OtpExtraction, IgnoresPostalCodes) {
  OtpResult r = find_otp_in_text(
      "Your ZIP code: 94107. Postal code 10115. Code postal : 75008. Código postal: 28013.");
  EXPECT_EQ(r.code, std::nullopt) << ::testing::PrintToString(r);
}

TEST(OtpExtraction, IgnoresPromoCodes) {
  OtpResult r = find_otp_in_text("Use promo code SPRING2025 or discount code 4421 at checkout.");
  EXPECT_EQ(r.code, std::nullopt) << ::testing::PrintToString(r);
}

TEST(OtpExtraction, IgnoresPartsOfUrlsAndEmailAddresses) {
  OtpResult r = find_otp_in_text(
      "Verification code page: https://a.test/verify/482913?code=553311 — write to "
      "code-123456@a.test");
  EXPECT_EQ(r.code, std::nullopt) << ::testing::PrintToString(r);
  OtpResult html = find_otp_in_html(
      "<p>Enter your code at <a href=\"https://a.test/c?code=553311\">the code page</a></p>");
  EXPECT_EQ(html.code, std::nullopt) << ::testing::PrintToString(html);
}

TEST(OtpExtraction, IgnoresAHiddenPreheaderDecoy) {
  OtpResult r = find_otp(html_fixture("otp_hidden_preheader_decoy.html"));
  EXPECT_THAT(r.code, Optional(std::string("207518"))) << ::testing::PrintToString(r);
  EXPECT_THAT(values(r), ElementsAre("207518"));
}

TEST(OtpExtraction, IgnoresCapitalisedWordsAndNumbersWithoutALabel) {
  OtpResult r = find_otp_in_text("WELCOME TO ACME\nWe have 10000 happy users since 2015.");
  EXPECT_EQ(r.code, std::nullopt) << ::testing::PrintToString(r);
  EXPECT_THAT(r.candidates, IsEmpty());
}

TEST(OtpExtraction, IgnoresAHeadingInCapitalsStyledLikeACode) {
  OtpResult r = find_otp_in_html(
      "<div style=\"font-size:28px;font-weight:bold;letter-spacing:3px\">WELCOME</div>"
      "<p>Glad you're here. Your code: 551234</p>");
  EXPECT_THAT(r.code, Optional(std::string("551234")));
  EXPECT_THAT(values(r), ElementsAre("551234"));
}

TEST(OtpExtraction, IgnoresMixedCaseWordsNextToALabel) {
  OtpResult r = find_otp_in_text("Your code for iPhone15 and YouTube: none today");
  EXPECT_EQ(r.code, std::nullopt) << ::testing::PrintToString(r);
}

// --- When it cannot decide -------------------------------------------------------------

TEST(OtpExtraction, ReportsBothCandidatesWhenTwoCodesAreEquallyLikely) {
  Message m = html_fixture("otp_ambiguous_two_codes.html");
  OtpResult r = find_otp(m);
  EXPECT_TRUE(r.ambiguous);
  EXPECT_EQ(r.code, std::nullopt);
  EXPECT_THAT(r.candidates, AllOf(Contains(Value("318274")), Contains(Value("660415"))));
  EXPECT_EQ(otp(m), std::nullopt);
  for (const OtpCandidate& c : r.candidates) {
    EXPECT_THAT(c.context, HasSubstr(c.value));
    EXPECT_FALSE(c.reason.empty());
  }
}

TEST(OtpExtraction, PrintsTheCandidatesWhenAmbiguous) {
  OtpResult r = find_otp(html_fixture("otp_ambiguous_two_codes.html"));
  std::string printed = ::testing::PrintToString(r);
  EXPECT_THAT(printed, HasSubstr("code=none, ambiguous"));
  EXPECT_THAT(printed, HasSubstr("\"318274\""));
  EXPECT_THAT(printed, HasSubstr("\"660415\""));
}

// --- What the caller can say -------------------------------------------------------------

TEST(OtpExtraction, UsesTheCallersPattern) {
  Message m = html_fixture("otp_ambiguous_two_codes.html");
  OtpResult r = find_otp(m, {.pattern = R"(backup code is (\d{6}))"});
  EXPECT_THAT(r.code, Optional(std::string("660415"))) << ::testing::PrintToString(r);
  EXPECT_THAT(find_otp_in_text("Ref X-19 and ticket 42: token Q-7 ok", {.pattern = "Q-[0-9]"}).code,
              Optional(std::string("Q-7")));
}

TEST(OtpExtraction, UsesTheCallersExpectedLength) {
  OtpResult r = find_otp_in_text("Your code is 48213. Your other code is 55102931.", {.length = 8});
  EXPECT_THAT(r.code, Optional(std::string("55102931"))) << ::testing::PrintToString(r);
  EXPECT_EQ(find_otp_in_text("Your code is 482913", {.length = 4}).code, std::nullopt);
}

TEST(OtpExtraction, RejectsAnInvalidPatternSayingWhatToFix) {
  try {
    (void)find_otp_in_text("code 123456", {.pattern = "([0-9]"});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("OtpOptions::pattern"));
    EXPECT_THAT(e.what(), HasSubstr("fix the pattern"));
  }
}

// --- Everything at once --------------------------------------------------------------------

TEST(Extract, GivesTheSameAnswersAsTheSeparateFunctions) {
  Message m = html_fixture("magic_link.html", "Your Lattice sign-in link");
  Extraction e = extract(m);
  EXPECT_EQ(e.text, visible_text(m));
  EXPECT_EQ(e.links, links(m));
  EXPECT_EQ(e.ranked_links, rank_links(m));
  EXPECT_EQ(e.verification_link, verification_link(m));
  EXPECT_EQ(e.otp, find_otp(m));
  EXPECT_EQ(e.otp.code, std::nullopt);
}

TEST(Extract, FindsTheCodeAndTheTextOfACodeEmail) {
  Extraction e = extract(html_fixture("otp_grouped_big_box.html"));
  EXPECT_THAT(e.otp.code, Optional(std::string("739204")));
  EXPECT_THAT(e.text, HasSubstr("Enter this code on the sign-in page to continue:\n739 204\n"));
}

}  // namespace
}  // namespace tempmail
