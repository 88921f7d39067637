// The local server's I/O threads: one io_context per thread ("one loop per
// thread"). Each new connection is given one context, round robin, and all
// its handlers run on that context's thread. Rationale: with one io_context
// shared by several threads, the thread that saw a socket become readable
// often woke another to run the handler, so each SMTP command cost a few
// futex wake-ups (bench/RESULTS.md); here a session never wakes another
// thread to go on. Work posted from other threads (a commit's completion, a
// long-poll's wake-up, stop) still reaches the right thread.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace tempmail::local::detail {

/// Picks the io_context that serves a new connection.
using ContextPicker = std::function<boost::asio::io_context&()>;

class IoPool {
 public:
  /// `threads` io_contexts (at least 1), not running yet.
  explicit IoPool(std::size_t threads);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  /// The first context: where listeners accept.
  [[nodiscard]] boost::asio::io_context& front() { return *contexts_.front(); }
  /// The next context, round robin: where a new connection runs.
  [[nodiscard]] boost::asio::io_context& next();
  /// `next()` as a ContextPicker.
  [[nodiscard]] ContextPicker picker() {
    return [this]() -> boost::asio::io_context& { return next(); };
  }

  /// Runs each context on its own thread; `log` hears of a thread that stopped on an exception.
  void start(std::function<void(std::string_view)> log);
  /// Lets every context run out of work (its connections finish), waits up to
  /// `drain` for that, then stops the rest and joins the threads. Idempotent.
  void finish(std::chrono::milliseconds drain, const std::function<void()>& on_forced_stop);

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::atomic<std::size_t> next_{0};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t running_ = 0;
};

}  // namespace tempmail::local::detail
