#include "local/io_pool.hpp"

#include <stdexcept>
#include <string>

namespace tempmail::local::detail {

IoPool::IoPool(std::size_t threads) {
  if (threads == 0) throw std::invalid_argument("IoPool needs at least one thread");
  contexts_.reserve(threads);
  guards_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    // Concurrency hint 1: only this context's own thread runs its handlers,
    // so Asio skips waking other threads (other threads may still post).
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

IoPool::~IoPool() {
  finish(std::chrono::milliseconds(0), [] {});
}

boost::asio::io_context& IoPool::next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void IoPool::start(std::function<void(std::string_view)> log) {
  std::lock_guard lock(mu_);
  running_ = contexts_.size();
  for (auto& context : contexts_)
    threads_.emplace_back([this, ioc = context.get(), log] {
      try {
        ioc->run();
      } catch (const std::exception& e) {
        if (log) log(std::string("an I/O thread stopped: ") + e.what());
      }
      std::lock_guard done(mu_);
      --running_;
      cv_.notify_all();
    });
}

void IoPool::finish(std::chrono::milliseconds drain, const std::function<void()>& on_forced_stop) {
  guards_.clear();
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, drain, [&] { return running_ == 0; })) {
      on_forced_stop();
      for (auto& context : contexts_) context->stop();
    }
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace tempmail::local::detail
