// The store's parser thread: parses committed messages' fields soon after
// their commit, so that a reader seldom has to (message.hpp says why a
// delivery is not parsed before its 250). A reader that gets there first
// parses the fields itself; the thread then finds them done.
//
// Thread safety: later() and stop() may be called from any thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "local/store/message.hpp"

namespace tempmail::local::detail {

class ParserThread {
 public:
  ParserThread();
  ~ParserThread();
  ParserThread(const ParserThread&) = delete;
  ParserThread& operator=(const ParserThread&) = delete;

  /// Parses these fields soon; nothing once stopped (readers parse them).
  void later(std::vector<std::shared_ptr<const LazyFields>> fields);
  /// Drops what is queued and joins the thread. Idempotent.
  void stop() noexcept;

 private:
  void loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<const LazyFields>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tempmail::local::detail
