// A user's GoogleTest suite built against the installed package: one mailbox
// per test on the embedded local server.
#include "tempmail/gtest/mailbox_test.hpp"

class ConsumerTest : public tempmail::gtest::MailboxTest {};

TEST_F(ConsumerTest, GetsAFreshMailbox) {
  EXPECT_THAT(mailbox().address(), ::testing::EndsWith("@example.com"));
  EXPECT_TRUE(tempmail::gtest::Environment::get().is_local());
}
