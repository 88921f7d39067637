// Patterns from users (RE2) and the message predicates made of them: linear
// time on any text, ^ and $ at line ends, and explanations that show the text.
#include "tempmail/pattern.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tempmail/wait.hpp"

namespace tempmail {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Message mail(std::string subject, std::string text, std::string from_name = "My App") {
  return Message{.subject = std::move(subject),
                 .from_name = std::move(from_name),
                 .from_email = "noreply@myapp.test",
                 .html = false,
                 .content = std::move(text)};
}

TEST(Pattern, IsSearchedAnywhereInTheText) {
  EXPECT_TRUE(Pattern("code").found_in("Your code is 1234"));
  EXPECT_FALSE(Pattern("^code").found_in("Your code is 1234"));
}

TEST(Pattern, MatchesDollarAndCaretAtLineEnds) {
  EXPECT_TRUE(Pattern("code is [0-9]+$").found_in("Your code is 123456\n"));
  EXPECT_TRUE(Pattern("^Thanks").found_in("Hello\nThanks\n"));
  EXPECT_FALSE(Pattern(R"(123456\z)").found_in("Your code is 123456\n"));
  EXPECT_FALSE(Pattern(R"(\AThanks)").found_in("Hello\nThanks\n"));
}

TEST(Pattern, FindsTheFirstGroupOrTheWholeMatch) {
  EXPECT_EQ(Pattern(R"(code is (\d+))").find_in("Your code is 4711."), "4711");
  EXPECT_EQ(Pattern(R"(\d+)").find_in("Your code is 4711."), "4711");
  EXPECT_EQ(Pattern(R"(\d+)").find_in("no digits"), std::nullopt);
}

TEST(Pattern, SearchesALongBodyWithoutRecursion) {
  // std::regex overflowed the stack on this (one recursion per character).
  const std::string body = "code " + std::string(30 * 1024, 'x') + " w";
  EXPECT_TRUE(Pattern("code.*w").found_in(body));
  EXPECT_FALSE(Pattern("code.*q").found_in(body));
}

TEST(Pattern, RunsInLinearTimeOnPatternsThatBacktrackElsewhere) {
  // std::regex takes exponential time here; RE2 finishes at once.
  const std::string text = std::string(100000, 'a') + "!";
  EXPECT_FALSE(Pattern("^(a+)+$").found_in(text));
  EXPECT_TRUE(Pattern("(a|aa)+!").found_in(text));
}

TEST(Pattern, RejectsWhatRe2CannotCompileNamingRe2sReason) {
  try {
    Pattern p("(unclosed");
    FAIL() << "no PatternError";
  } catch (const PatternError& e) {
    EXPECT_EQ(e.expression(), "(unclosed");
    EXPECT_EQ(e.reason(), "missing ): (unclosed");
    EXPECT_STREQ(e.what(),
                 "'(unclosed' is not a valid RE2 regular expression: missing ): (unclosed");
  }
  EXPECT_THROW(Pattern(R"((a)\1)"), PatternError);  // backreferences need backtracking
  EXPECT_THROW(Pattern("\xff"), PatternError);      // not UTF-8
  EXPECT_THROW(Pattern("((a{100}){100}){100}"), PatternError);
}

TEST(Pattern, NeverFailsOnInvalidUtf8Text) {
  EXPECT_TRUE(Pattern("code").found_in("\xff\xfe code \xc3"));
  EXPECT_FALSE(Pattern("^.$").found_in("\xff"));
}

TEST(Pattern, ComparesAndPrintsItsExpression) {
  EXPECT_EQ(Pattern("a+"), Pattern("a+"));
  EXPECT_NE(Pattern("a+"), Pattern("a*"));
  std::ostringstream os;
  os << Pattern(R"(@myapp\.test$)");
  EXPECT_EQ(os.str(), R"(/@myapp\.test$/)");
}

TEST(SubjectMatches, DescribesAndExplainsTheSubject) {
  const MessagePredicate p = subject_matches("^Verify");
  EXPECT_EQ(p.description(), "has subject matching /^Verify/");
  EXPECT_TRUE(p.matches(mail("Verify your email", "")));
  EXPECT_EQ(p.explain(mail("Weekly sale", "")),
            R"(whose subject "Weekly sale" does not match /^Verify/)");
}

TEST(SenderMatches, SeesTheAddressAndTheNameWithTheAddress) {
  EXPECT_TRUE(sender_matches(R"(^noreply@myapp\.test$)").matches(mail("", "")));
  EXPECT_TRUE(sender_matches("^My App <").matches(mail("", "")));
  EXPECT_EQ(sender_matches("shop").explain(mail("", "")),
            R"(whose sender "My App <noreply@myapp.test>" does not match /shop/)");
}

TEST(BodyMatches, MatchesAtTheEndOfAPlainTextBodyThatEndsWithANewline) {
  EXPECT_TRUE(body_matches("code is [0-9]+$").matches(mail("", "Your code is 123456\n")));
}

TEST(BodyMatches, ExplainsAMissWithTheTextEscapedAndItsLength) {
  EXPECT_EQ(body_matches(R"(code is \d+\z)").explain(mail("", "Your code is 123456\n")),
            R"(whose body "Your code is 123456\n" (20 bytes) does not match /code is \d+\z/)");
}

TEST(BodyMatches, ShowsTheStartAndTheEndOfALongBody) {
  const std::string body = "Start " + std::string(5000, '.') + " the end\n";
  const std::string why = body_matches("nothing").explain(mail("", body));
  EXPECT_THAT(why, StartsWith(R"(whose body "Start ...)"));
  EXPECT_THAT(why, HasSubstr(R"(" ... ")"));
  EXPECT_THAT(why, HasSubstr(R"(. the end\n" (5015 bytes) does not match /nothing/)"));
  EXPECT_LT(why.size(), 300u);
}

TEST(BodyMatches, EscapesControlCharactersSoTheyCannotReachATerminal) {
  EXPECT_EQ(subject_matches("x").explain(mail("\x1b[2J\"hi\"\\", "")),
            R"(whose subject "\x1b[2J\"hi\"\\" does not match /x/)");
}

TEST(MessagePredicateAnd, NeedsBothAndExplainsEachFailure) {
  const MessagePredicate p =
      subject_matches("Verify") && sender_matches("@shop") && body_matches("code");
  EXPECT_EQ(p.description(),
            "has subject matching /Verify/ and sender matching /@shop/ and body matching /code/");
  const Message m = mail("Verify", "no number");
  EXPECT_FALSE(p.matches(m));
  EXPECT_EQ(p.explain(m),
            R"(whose sender "My App <noreply@myapp.test>" does not match /@shop/, and )"
            R"(whose body "no number" (9 bytes) does not match /code/)");
  EXPECT_TRUE((subject_matches("Verify") && body_matches("number")).matches(m));
}

TEST(MessagePredicateAnd, TakesPlainCallables) {
  const MessagePredicate p =
      subject_matches("Verify") && [](const Message& m) { return m.content.empty(); };
  EXPECT_TRUE(p.matches(mail("Verify", "")));
  EXPECT_FALSE(p.matches(mail("Verify", "x")));
}

}  // namespace
}  // namespace tempmail
