// The watch list alone: who is woken, how often, and from where.
#include "local/store/watchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace tempmail::local::detail {
namespace {

using ::testing::ElementsAre;

TEST(WatchList, WakesOnlyTheWatchersOfTheNamedMailboxes) {
  WatchList list;
  std::vector<int> woken;
  list.add(1, [&] { woken.push_back(1); });
  list.add(2, [&] { woken.push_back(2); });
  list.add(3, [&] { woken.push_back(3); });
  list.wake({1, 3, 99});
  std::sort(woken.begin(), woken.end());
  EXPECT_THAT(woken, ElementsAre(1, 3));
  EXPECT_EQ(list.size(), 1u);
}

TEST(WatchList, WakesEachWatcherOnceAndThenForgetsIt) {
  WatchList list;
  int calls = 0;
  list.add(7, [&] { ++calls; });
  list.add(7, [&] { ++calls; });
  list.wake({7});
  list.wake({7});
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(list.size(), 0u);
}

TEST(WatchList, ARemovedWatcherIsNeverWokenAndRemovingTwiceIsHarmless) {
  WatchList list;
  bool woken = false;
  const auto id = list.add(1, [&] { woken = true; });
  EXPECT_NE(id, 0u);
  list.remove(id);
  list.remove(id);
  list.remove(12345);
  list.wake({1});
  EXPECT_FALSE(woken);
}

TEST(WatchList, HandsOutDistinctNonZeroIds) {
  WatchList list;
  const auto a = list.add(1, [] {});
  const auto b = list.add(1, [] {});
  EXPECT_NE(a, 0u);
  EXPECT_NE(b, 0u);
  EXPECT_NE(a, b);
}

TEST(WatchList, AWakeCallbackMayWatchAgainWithoutDeadlock) {
  WatchList list;
  int rounds = 0;
  std::function<void()> again = [&] {
    if (++rounds < 3) list.add(5, again);
  };
  list.add(5, again);
  list.wake({5});
  EXPECT_EQ(rounds, 1);
  EXPECT_EQ(list.size(), 1u);  // the callback's new watcher waits for the next wake
  list.wake({5});
  list.wake({5});
  EXPECT_EQ(rounds, 3);
  EXPECT_EQ(list.size(), 0u);
}

TEST(WatchList, ConcurrentAddsAndWakesWakeEveryWatcherExactlyOnce) {
  WatchList list;
  std::atomic<int> woken{0};
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        list.add(t, [&] { ++woken; });
        if (i % 16 == 0) list.wake({t});
      }
    });
  for (auto& t : threads) t.join();
  list.wake({0, 1, 2, 3});
  EXPECT_EQ(woken.load(), 4 * kPerThread);
  EXPECT_EQ(list.size(), 0u);
}

}  // namespace
}  // namespace tempmail::local::detail
