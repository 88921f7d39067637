#include "common/redact.hpp"

#include <gtest/gtest.h>

#include "common/random.hpp"

namespace tempmail::detail {
namespace {

TEST(Redact, ReplacesEveryOccurrenceOfTheSecret) {
  EXPECT_EQ(redact("Bearer k3y and k3y", "k3y"), "Bearer [REDACTED] and [REDACTED]");
  EXPECT_EQ(redact("nothing here", "k3y"), "nothing here");
  EXPECT_EQ(redact("empty secret", ""), "empty secret");
}

TEST(Redact, ReplacesTheSecretOnlyWhereItStandsAsAWholeToken) {
  EXPECT_EQ(redact("Bearer k3y.", "k3y"), "Bearer [REDACTED].");
  EXPECT_EQ(redact("token=k3y&x", "k3y"), "token=[REDACTED]&x");
  EXPECT_EQ(redact("k3yk3y and xk3y and k3y_2", "k3y"), "k3yk3y and xk3y and k3y_2");
}

TEST(Redact, LeavesTextAloneForAShortSecret) {
  const std::string text = "The server answered 404 Not Found: \"no mailbox e-mail here\"";
  EXPECT_EQ(redact(text, "e"), text);
  EXPECT_EQ(redact(text, "4"), text);
  EXPECT_EQ(redact("key e was rejected", "e"), "key [REDACTED] was rejected");
}

TEST(RandomAlnum, DrawsTheRequestedLengthFromTheAlphabet) {
  const std::string id = random_alnum(46);
  ASSERT_EQ(id.size(), 46u);
  for (char c : id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << c;
  EXPECT_NE(random_alnum(46), id);
}

}  // namespace
}  // namespace tempmail::detail
