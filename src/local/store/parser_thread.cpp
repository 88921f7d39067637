#include "local/store/parser_thread.hpp"

#include <chrono>
#include <iterator>

namespace tempmail::local::detail {
namespace {

// How long the parser thread lets committed messages gather before parsing them.
constexpr auto kParseGather = std::chrono::milliseconds(2);

}  // namespace

ParserThread::ParserThread() : thread_([this] { loop(); }) {}

ParserThread::~ParserThread() { stop(); }

void ParserThread::later(std::vector<std::shared_ptr<const LazyFields>> fields) {
  if (fields.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;  // readers parse what is left
    wake = queue_.empty();  // else the parser is awake and will see these
    queue_.insert(queue_.end(), std::make_move_iterator(fields.begin()),
                  std::make_move_iterator(fields.end()));
  }
  if (wake) cv_.notify_one();
}

void ParserThread::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();  // readers parse these on first use
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ParserThread::loop() {
  std::vector<std::shared_ptr<const LazyFields>> batch;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      // Lets a burst gather: one wake-up per kParseGather, not one per message
      // (later() notifies only an empty queue). Readers do not wait for it.
      cv_.wait_for(lock, kParseGather, [&] { return stopping_; });
      if (stopping_) return;
      batch.swap(queue_);
    }
    // Skipped when only the queue still refers to the fields: every message
    // of that delivery was deleted before anyone read it.
    for (const auto& f : batch)
      if (f.use_count() > 1) (void)f->get();
    batch.clear();
  }
}

}  // namespace tempmail::local::detail
