#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "fixtures.hpp"
#include "tempmail/extract.hpp"

namespace tempmail {
namespace {

using samples::html_fixture;
using samples::html_message;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Optional;

std::string url_of(const std::optional<Link>& link) { return link ? link->url : "(none)"; }

TEST(VerificationLink, FindsTheMagicSignInLinkAndItsToken) {
  std::optional<Link> link = verification_link(html_fixture("magic_link.html"));
  ASSERT_TRUE(link.has_value());
  EXPECT_EQ(link->host(), "app.lattice.test");
  EXPECT_EQ(link->path(), "/auth/magic");
  EXPECT_THAT(link->query_param("token"), Optional(std::string("7Hq2LxP9vR4mZc8WkT3sYb6N")));
  EXPECT_THAT(link->query_param("email"), Optional(std::string("sam@example.test")));
  EXPECT_EQ(link->text, "Sign in to Lattice");
}

TEST(VerificationLink, FindsThePasswordResetLink) {
  std::optional<Link> link = verification_link(html_fixture("password_reset.html"));
  ASSERT_TRUE(link.has_value());
  EXPECT_EQ(link->path(), "/password/reset/confirm");
  EXPECT_THAT(link->query_param("token"), Optional(std::string("c3k9-2f8a1b7e4d6c0f3a9b2e")));
}

TEST(VerificationLink, FindsTheConfirmLinkInAPlainTextEmail) {
  Message m = samples::text_message(samples::fixture("verify_plain_text.txt"));
  std::optional<Link> link = verification_link(m);
  ASSERT_TRUE(link.has_value());
  EXPECT_EQ(link->path(), "/verify");
  EXPECT_THAT(link->query_param("token"), Optional(std::string("Zm9vYmFyYmF6cXV4MTIz")));
}

TEST(VerificationLink, IsNoneInANewsletter) {
  EXPECT_EQ(verification_link(html_fixture("newsletter_numbers.html")), std::nullopt);
}

TEST(VerificationLink, IsNoneWhenOnlyAPathMentionsSigningIn) {
  // A token email that links to the CLI's login documentation.
  EXPECT_EQ(verification_link(html_fixture("otp_long_token.html")), std::nullopt);
}

TEST(VerificationLink, RanksUnsubscribePrivacyTermsHelpAndSocialLinksLast) {
  std::vector<ScoredLink> ranked = rank_links(html_fixture("magic_link.html"));
  ASSERT_FALSE(ranked.empty());
  EXPECT_EQ(ranked.front().link.path(), "/auth/magic");
  for (std::size_t i = 1; i < ranked.size(); ++i) {
    EXPECT_LT(ranked[i].score, 30) << ::testing::PrintToString(ranked[i]);
  }
  for (const ScoredLink& s : ranked) {
    std::string host = s.link.host();
    if (host == "twitter.com" || host == "www.linkedin.com" || s.link.path() == "/help" ||
        s.link.path() == "/privacy" || s.link.path() == "/terms" ||
        s.link.path() == "/email/unsubscribe") {
      EXPECT_LT(s.score, 0) << ::testing::PrintToString(s);
    }
  }
}

TEST(VerificationLink, ExplainsEachScore) {
  std::vector<ScoredLink> ranked = rank_links(html_fixture("magic_link.html"));
  ASSERT_FALSE(ranked.empty());
  EXPECT_THAT(ranked.front().why, HasSubstr("text says verify/confirm/sign in"));
  EXPECT_THAT(ranked.front().why, HasSubstr("query carries a token or code"));
  EXPECT_THAT(ranked.back().why, HasSubstr("social network"));
}

TEST(VerificationLink, UsesTheTextBeforeAClickHereLink) {
  Message m = html_message(
      "<p>Read our <a href=\"https://news.test/blog\">blog</a>.</p>"
      "<p>To verify your email address, <a "
      "href=\"https://click.mailer.test/ls/click?upn=9f8e7d6c5b4a3f2e1d0c\">"
      "click here</a>.</p>");
  EXPECT_EQ(url_of(verification_link(m)),
            "https://click.mailer.test/ls/click?upn=9f8e7d6c5b4a3f2e1d0c");
}

TEST(VerificationLink, IgnoresImageLinksAndTrackingPixels) {
  Message m = html_message(
      "<a href=\"https://t.mailer.test/confirm/open.gif?id=1\"><img src=\"p.gif\"></a>"
      "<p><a href=\"https://app.test/account/confirm?key=1a2b3c\">Confirm your account</a></p>");
  EXPECT_EQ(url_of(verification_link(m)), "https://app.test/account/confirm?key=1a2b3c");
}

TEST(VerificationLink, PrefersTheCallersHost) {
  Message m = html_message(
      "<a href=\"https://other.test/verify?token=1\">Verify</a>"
      "<a href=\"https://id.mine.test/verify?token=2\">Verify</a>");
  std::optional<Link> link = verification_link(m, {.prefer_host = "mine.test"});
  ASSERT_TRUE(link.has_value());
  EXPECT_THAT(link->query_param("token"), Optional(std::string("2")));
  EXPECT_THAT(verification_link(m)->query_param("token"), Optional(std::string("1")))
      << "without a preference, document order breaks the tie";
}

TEST(VerificationLink, PrefersLinksMatchingTheCallersPattern) {
  Message m = html_message(
      "<a href=\"https://a.test/verify?token=1\">Verify</a>"
      "<a href=\"https://a.test/v2/confirm/abc?token=2\">Confirm</a>");
  std::optional<Link> link = verification_link(m, {.prefer_pattern = "/v2/confirm/[a-z]+"});
  ASSERT_TRUE(link.has_value());
  EXPECT_THAT(link->query_param("token"), Optional(std::string("2")));
}

TEST(VerificationLink, RejectsAnInvalidPatternSayingWhatToFix) {
  Message m = html_message("<a href=\"https://a.test/verify\">Verify</a>");
  try {
    (void)verification_link(m, {.prefer_pattern = "(unclosed"});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("LinkOptions::prefer_pattern"));
    EXPECT_THAT(e.what(), HasSubstr("(unclosed"));
    EXPECT_THAT(e.what(), HasSubstr("fix the pattern"));
  }
}

TEST(VerificationLink, RanksLinksThatYouAlreadyHave) {
  std::vector<Link> links = {{.url = "https://a.test/privacy", .text = "Privacy"},
                             {.url = "https://a.test/activate?code=77", .text = "Activate"}};
  std::vector<ScoredLink> ranked = rank_links(links);
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].link.url, "https://a.test/activate?code=77");
  EXPECT_GT(ranked[0].score, ranked[1].score);
}

struct LanguageCase {
  const char* language;
  const char* text;
};

class VerificationLinkInLanguage : public ::testing::TestWithParam<LanguageCase> {};

TEST_P(VerificationLinkInLanguage, FindsTheLinkByItsText) {
  // The verify link has a neutral URL: only its text says what it is.
  Message m = html_message(
      std::string("<p><a href=\"https://shop.test/deals\">Angebote / deals</a></p>"
                  "<p><a href=\"https://id.test/l/8f3k2\">") +
      GetParam().text + "</a></p><p><a href=\"https://shop.test/about\">About</a></p>");
  EXPECT_EQ(url_of(verification_link(m)), "https://id.test/l/8f3k2") << GetParam().language;
}

INSTANTIATE_TEST_SUITE_P(
    Languages, VerificationLinkInLanguage,
    ::testing::Values(
        LanguageCase{"en", "Verify email address"}, LanguageCase{"zh", "验证邮箱地址"},
        LanguageCase{"zh", "确认注册"}, LanguageCase{"zh", "激活账号"},
        LanguageCase{"ja", "メールアドレスを認証する"}, LanguageCase{"ja", "登録を確認"},
        LanguageCase{"ja", "アカウントを有効化"}, LanguageCase{"de", "E-Mail-Adresse bestätigen"},
        LanguageCase{"de", "Konto verifizieren"}, LanguageCase{"de", "Konto aktivieren"},
        LanguageCase{"fr", "Vérifier mon adresse"}, LanguageCase{"fr", "Confirmer mon inscription"},
        LanguageCase{"fr", "Activer mon compte"}, LanguageCase{"es", "Verificar correo"},
        LanguageCase{"es", "Activar cuenta"}, LanguageCase{"pt", "Confirmar e-mail"},
        LanguageCase{"pt", "Ativar conta"}, LanguageCase{"ru", "Подтвердить адрес"},
        LanguageCase{"ru", "Активировать аккаунт"}),
    [](const auto& info) { return std::string(info.param.language) + std::to_string(info.index); });

TEST(VerificationLink, AvoidsUnsubscribeLinksInOtherLanguages) {
  for (const char* text : {"Abmelden", "Se désabonner", "Darse de baja", "Descadastrar",
                           "Отписаться", "退订", "配信停止"}) {
    Message m =
        html_message(std::string("<a href=\"https://a.test/confirm?token=1\">") + text + "</a>");
    std::vector<ScoredLink> ranked = rank_links(m);
    ASSERT_EQ(ranked.size(), 1u);
    EXPECT_LT(ranked[0].score, 30) << text;
  }
}

}  // namespace
}  // namespace tempmail
