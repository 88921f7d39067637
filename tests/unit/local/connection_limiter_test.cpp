// ConnectionLimiter alone: caps, and idle connections making room (issue 16).
#include "local/connection_limiter.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace tempmail::local::detail {
namespace {

using Slot = ConnectionLimiter::Slot;

const auto kLoopback = boost::asio::ip::make_address("127.0.0.1");
const auto kOther = boost::asio::ip::make_address("127.0.0.2");

// A slot whose eviction is recorded in `evicted` (as a session would post it).
std::optional<Slot> admit(ConnectionLimiter& limiter, const boost::asio::ip::address& address,
                          std::vector<int>& evicted, int id) {
  auto slot = limiter.admit(address);
  if (slot) slot->on_evict([&evicted, id] { evicted.push_back(id); });
  return slot;
}

TEST(ConnectionLimiter, RefusesOverTheCapWhenNoConnectionIsIdle) {
  auto limiter = std::make_shared<ConnectionLimiter>(10, 2);
  std::vector<int> evicted;
  auto a = admit(*limiter, kLoopback, evicted, 1);
  auto b = admit(*limiter, kLoopback, evicted, 2);
  EXPECT_FALSE(limiter->admit(kLoopback));
  EXPECT_TRUE(limiter->admit(kOther));
  EXPECT_TRUE(evicted.empty());
}

TEST(ConnectionLimiter, AtAnAddressCapAsksTheLongestIdleOfThatAddressToClose) {
  auto limiter = std::make_shared<ConnectionLimiter>(10, 3);
  std::vector<int> evicted;
  auto other = admit(*limiter, kOther, evicted, 0);
  other->idle();
  auto a = admit(*limiter, kLoopback, evicted, 1);
  auto b = admit(*limiter, kLoopback, evicted, 2);
  auto c = admit(*limiter, kLoopback, evicted, 3);
  b->idle();
  a->idle();
  c->idle();
  c->busy();  // a request arrived
  auto d = limiter->admit(kLoopback);
  EXPECT_TRUE(d);
  EXPECT_EQ(evicted, std::vector<int>{2});  // idle longest; c is busy, 0 another address
  auto e = limiter->admit(kLoopback);
  EXPECT_TRUE(e);
  EXPECT_EQ(evicted, (std::vector<int>{2, 1}));
  EXPECT_FALSE(limiter->admit(kLoopback)) << "only c, d and e are left, and none is idle";
}

TEST(ConnectionLimiter, AtTheTotalCapAsksTheLongestIdleOfAnyAddressToClose) {
  auto limiter = std::make_shared<ConnectionLimiter>(2, 2);
  std::vector<int> evicted;
  auto a = admit(*limiter, kOther, evicted, 1);
  auto b = admit(*limiter, kLoopback, evicted, 2);
  a->idle();
  auto c = limiter->admit(kLoopback);
  EXPECT_TRUE(c);
  EXPECT_EQ(evicted, std::vector<int>{1});
}

TEST(ConnectionLimiter, AConnectionFoundBusyAfterAllCountsAgain) {
  auto limiter = std::make_shared<ConnectionLimiter>(10, 1);
  std::vector<int> evicted;
  auto a = admit(*limiter, kLoopback, evicted, 1);
  a->idle();
  auto b = admit(*limiter, kLoopback, evicted, 2);  // asks a to close
  ASSERT_TRUE(b);
  a->keep();  // a had work after all
  a->idle();
  b->idle();
  EXPECT_EQ(limiter->open(), 2u);
  EXPECT_TRUE(limiter->admit(kLoopback));  // the longest idle now is a again
  EXPECT_EQ(evicted, (std::vector<int>{1, 1}));
}

TEST(ConnectionLimiter, FreesTheSlotOfAClosedConnection) {
  auto limiter = std::make_shared<ConnectionLimiter>(10, 1);
  std::vector<int> evicted;
  {
    auto a = admit(*limiter, kLoopback, evicted, 1);
    a->idle();
    EXPECT_EQ(limiter->open(), 1u);
  }
  EXPECT_EQ(limiter->open(), 0u);
  EXPECT_TRUE(limiter->admit(kLoopback));
  EXPECT_TRUE(evicted.empty());
}

}  // namespace
}  // namespace tempmail::local::detail
