#include "tempmail/policy.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace tempmail {
namespace {

using namespace std::chrono_literals;

TEST(ExponentialBackoff, GrowsByTheFactorUpToTheCap) {
  ExponentialBackoff b{.initial = 100ms, .factor = 2.0, .max = 1s, .jitter = 0.0};
  EXPECT_EQ(b.delay(0, 0.5), 100ms);
  EXPECT_EQ(b.delay(1, 0.5), 200ms);
  EXPECT_EQ(b.delay(3, 0.5), 800ms);
  EXPECT_EQ(b.delay(4, 0.5), 1s);
  EXPECT_EQ(b.delay(1000, 0.5), 1s);  // no overflow
}

TEST(ExponentialBackoff, JitterOnlyShortensADelay) {
  ExponentialBackoff b{.initial = 1s, .factor = 2.0, .max = 4s, .jitter = 0.5};
  EXPECT_EQ(b.delay(5, 0.0), 4s);
  EXPECT_EQ(b.delay(5, 1.0), 2s);
  EXPECT_EQ(b.delay(0, 0.5), 750ms);
}

TEST(ExponentialBackoff, ValidationNamesTheField) {
  try {
    ExponentialBackoff{.initial = 0ms}.validate();
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "ExponentialBackoff.initial must be positive");
  }
  EXPECT_THROW(ExponentialBackoff{.factor = 0.5}.validate(), std::invalid_argument);
  EXPECT_THROW((ExponentialBackoff{.initial = 2s, .max = 1s}.validate()), std::invalid_argument);
  EXPECT_THROW(ExponentialBackoff{.jitter = 1.5}.validate(), std::invalid_argument);
  EXPECT_NO_THROW(ExponentialBackoff{}.validate());
}

TEST(RetryPolicy, NoneMakesOneAttempt) {
  EXPECT_EQ(RetryPolicy::none().max_attempts, 1);
  EXPECT_THROW(RetryPolicy{.max_attempts = 0}.validate(), std::invalid_argument);
}

}  // namespace
}  // namespace tempmail
