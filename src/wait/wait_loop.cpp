#include "wait/wait_loop.hpp"

#include <algorithm>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include "common/random.hpp"
#include "common/time.hpp"

namespace tempmail::detail {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

bool contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

void remember_new(const MessageList& list, std::vector<Message>& seen) {
  std::unordered_set<std::string> known;
  for (const auto& m : seen) known.insert(m.id);
  std::vector<Message> fresh;
  for (const auto& m : list.messages)
    if (known.insert(m.id).second) fresh.push_back(m);
  std::stable_sort(fresh.begin(), fresh.end(), [](const Message& a, const Message& b) {
    return a.received_at < b.received_at;
  });
  for (auto& m : fresh) seen.push_back(std::move(m));
}

namespace {

void fill_seen(const WaitMemory& memory, const MessagePredicate& predicate, WaitReport& report) {
  report.seen.clear();
  for (const auto& m : memory.seen) {
    WaitReport::Seen s{.message = m, .returned_before = contains(memory.returned, m.id)};
    if (!s.returned_before) {
      std::ostringstream explain;
      s.matched = predicate.matches(m, &explain);
      s.why_not = explain.str();
    }
    report.seen.push_back(std::move(s));
  }
}

std::string quota_message(const WaitReport& report, const QuotaExceededError& e,
                          std::optional<std::chrono::sys_seconds> reset) {
  std::ostringstream os;
  os << "The Temp Mail quota is exhausted while waiting for a message in " << report.mailbox
     << ": ";
  if (reset)
    os << "it resets at " << format_iso8601(*reset) << ", after the wait's deadline.";
  else
    os << "the service did not say when it resets.";
  os << " Wait for the reset, raise the plan's quota, or run the tests against the local server"
        " (unset TEMPMAIL_API_KEY). Server said: "
     << (e.server_message().empty() ? "(nothing)" : e.server_message());
  return os.str();
}

// The wait ran out of time while the server was not answering: that, not
// "no message arrived", is what happened. Rethrown as the same type, with
// what the wait had seen.
[[noreturn]] void throw_server_gone(const WaitReport& report, const std::exception_ptr& failure) {
  auto words = [&report](const Error& e) {
    std::ostringstream os;
    os << "The server stopped answering while waiting for a message in " << report.mailbox
       << ": the last poll failed (" << report.errors << " of " << report.polls
       << (report.polls == 1 ? " poll" : " polls") << " failed in "
       << std::chrono::duration<double>(report.waited).count() << " s";
    if (!report.seen.empty())
      os << "; " << report.seen.size()
         << (report.seen.size() == 1 ? " message had arrived" : " messages had arrived")
         << ", none matched";
    os << "). Check that the server is running and reachable. Last error: " << e.what();
    return os.str();
  };
  try {
    std::rethrow_exception(failure);
  } catch (const TimeoutError& e) {
    throw TimeoutError(words(e), e.http_status(), e.server_message(), e.endpoint());
  } catch (const TlsError& e) {
    throw TlsError(words(e), e.http_status(), e.server_message(), e.endpoint());
  } catch (const TransportError& e) {
    throw TransportError(words(e), e.http_status(), e.server_message(), e.endpoint());
  } catch (const ServerError& e) {
    throw ServerError(words(e), e.http_status(), e.server_message(), e.endpoint());
  }
  throw std::logic_error("throw_server_gone: not a transient error");
}

}  // namespace

MessageList ClientWaitDriver::list(const std::string& address, const CallOptions& options) {
  return client_.messages(address, options);
}
std::optional<MessageList> ClientWaitDriver::long_poll(const std::string& address,
                                                       const std::string& after_id,
                                                       milliseconds hold,
                                                       const CallOptions& options) {
  return client_.long_poll(address, after_id, hold, options);
}
steady::time_point ClientWaitDriver::now() { return steady::now(); }
std::chrono::system_clock::time_point ClientWaitDriver::system_now() {
  return std::chrono::system_clock::now();
}
void ClientWaitDriver::sleep_until(steady::time_point when) { std::this_thread::sleep_until(when); }
double ClientWaitDriver::random_unit() { return detail::random_unit(); }

namespace {

// What one call to the server came to.
struct PollOutcome {
  bool polled = false;      // the mailbox was read
  bool held = false;        // a long-poll answered: no backoff before the next call
  bool poll_again = false;  // a handled error asks for another call at once
};

// One wait, from its first poll to its result or its exception.
class WaitRun {
 public:
  WaitRun(WaitDriver& driver, const std::string& address, const MessagePredicate& predicate,
          const WaitGoal& goal, const WaitOptions& options, WaitMemory& memory, WaitReport& report)
      : driver_(driver),
        address_(address),
        predicate_(predicate),
        goal_(goal),
        options_(options),
        memory_(memory),
        report_(report) {}

  std::vector<Message> run();

 private:
  void begin();
  PollOutcome poll();
  void poll_mailbox(PollOutcome& outcome);
  // Indices in memory_.seen of the messages not returned before that match
  // (at most goal_.count of them unless the goal is exact).
  [[nodiscard]] std::vector<std::size_t> matching() const;
  void report_progress(std::size_t matched);
  // The goal's count matched: true when the wait is done now, false when an
  // exact goal watches on until its settle time has passed.
  bool done_on_reaching();
  void pause(bool held);
  std::vector<Message> take(const std::vector<std::size_t>& matched);
  void finish_report();
  [[noreturn]] void fail();
  [[noreturn]] void fail_quota(const QuotaExceededError& e,
                               std::optional<std::chrono::sys_seconds> reset);

  WaitDriver& driver_;
  const std::string& address_;
  const MessagePredicate& predicate_;
  const WaitGoal& goal_;
  const WaitOptions& options_;
  WaitMemory& memory_;
  WaitReport& report_;

  steady::time_point start_{};
  steady::time_point deadline_{};              // of the wait, or once reached of its settle time
  std::optional<steady::time_point> reached_;  // an exact goal's count matched
  std::vector<std::size_t> last_matched_;
  int attempt_ = 0;
  // Long-poll until the server turns out not to offer it; then poll the list.
  bool try_long_poll_ = false;
  // The failure of the latest poll; null once a poll succeeded after it.
  std::exception_ptr last_failure_;
};

std::vector<Message> WaitRun::run() {
  begin();
  while (true) {
    const PollOutcome outcome = poll();
    if (outcome.poll_again) continue;
    if (outcome.polled) {
      last_failure_ = nullptr;
      last_matched_ = matching();
      report_progress(last_matched_.size());
      if (goal_.exact && last_matched_.size() > goal_.count) {
        finish_report();
        throw UnexpectedMessage(report_);
      }
      if (last_matched_.size() >= goal_.count && done_on_reaching()) return take(last_matched_);
    }
    if (driver_.now() >= deadline_) break;
    pause(outcome.held);
  }
  // An exact goal's watch ended; it holds only if the last poll saw it hold.
  if (reached_ && !last_failure_ && last_matched_.size() == goal_.count) return take(last_matched_);
  fail();
}

void WaitRun::begin() {
  options_.backoff.validate();
  if (goal_.timeout.count() < 0) throw std::invalid_argument("wait timeout must not be negative");
  if (goal_.settle.count() < 0) throw std::invalid_argument("settle time must not be negative");
  report_ = WaitReport{.mailbox = address_,
                       .wanted = predicate_.description(),
                       .wanted_count = goal_.count,
                       .exactly = goal_.exact,
                       .timeout = goal_.timeout,
                       .settle = goal_.exact ? goal_.settle : std::chrono::milliseconds{0}};
  start_ = driver_.now();
  deadline_ = start_ + goal_.timeout;
  try_long_poll_ = options_.long_poll;
  // Nothing to wait for: the watch starts now.
  if (goal_.exact && goal_.count == 0) {
    reached_ = start_;
    deadline_ = start_ + goal_.settle;
  }
}

bool WaitRun::done_on_reaching() {
  if (!goal_.exact) return true;
  if (!reached_) {
    reached_ = driver_.now();
    deadline_ = *reached_ + goal_.settle;
    attempt_ = 0;  // the watch backs off from its own start
  }
  return false;
}

PollOutcome WaitRun::poll() {
  PollOutcome outcome;
  try {
    poll_mailbox(outcome);
  } catch (const NotFoundError&) {
    // The message the cursor names was deleted: start again from everything.
    if (!try_long_poll_ || memory_.cursor.empty()) throw;
    memory_.cursor.clear();
    outcome.poll_again = true;
  } catch (const QuotaExceededError& e) {
    // Wait for the reset only when it comes before the deadline.
    const auto retry_at = e.retry_at();
    if (!retry_at) fail_quota(e, retry_at);
    const auto until =
        driver_.now() + duration_cast<steady::duration>(*retry_at - driver_.system_now());
    if (until > deadline_) fail_quota(e, retry_at);
    ++report_.errors;
    report_.last_error = e.what();
    driver_.sleep_until(until);
    outcome.poll_again = true;
  } catch (const TransportError& e) {
    ++report_.errors;
    report_.last_error = e.what();
    last_failure_ = std::current_exception();
  } catch (const ServerError& e) {
    ++report_.errors;
    report_.last_error = e.what();
    last_failure_ = std::current_exception();
  }
  // Other errors (authentication, permission, not found, decode) end the wait at once.
  return outcome;
}

void WaitRun::poll_mailbox(PollOutcome& outcome) {
  const CallOptions call{.deadline = std::max(driver_.now(), deadline_) + kFinalPollGrace,
                         .retry = RetryPolicy::none()};
  if (try_long_poll_) {
    // Rounded up: a hold of 0 ms with time left would spin until the deadline.
    const auto hold = std::clamp(std::chrono::ceil<milliseconds>(deadline_ - driver_.now()),
                                 milliseconds{0}, kMaxLongPollHold);
    ++report_.polls;
    std::optional<MessageList> got = driver_.long_poll(address_, memory_.cursor, hold, call);
    if (got) {
      report_.long_poll = outcome.polled = outcome.held = true;
      if (!got->messages.empty()) memory_.cursor = got->messages.back().id;
      remember_new(*got, memory_.seen);
      return;
    }
    --report_.polls;  // only the discovery: not a poll of the mailbox
    try_long_poll_ = false;
  }
  ++report_.polls;
  remember_new(driver_.list(address_, call), memory_.seen);
  outcome.polled = true;
}

std::vector<std::size_t> WaitRun::matching() const {
  std::vector<std::size_t> matched;
  for (std::size_t i = 0; i < memory_.seen.size(); ++i) {
    const Message& m = memory_.seen[i];
    if (contains(memory_.returned, m.id) || !predicate_.matches(m)) continue;
    matched.push_back(i);
    if (!goal_.exact && matched.size() == goal_.count) break;
  }
  return matched;
}

void WaitRun::report_progress(std::size_t matched) {
  report_.matched = matched;
  if (!options_.on_poll) return;
  options_.on_poll(WaitProgress{.elapsed = duration_cast<milliseconds>(driver_.now() - start_),
                                .polls = report_.polls,
                                .messages_seen = memory_.seen.size(),
                                .matched = matched});
}

void WaitRun::pause(bool held) {
  if (held) return;
  const auto now = driver_.now();
  driver_.sleep_until(
      std::min(now + options_.backoff.delay(attempt_++, driver_.random_unit()), deadline_));
}

std::vector<Message> WaitRun::take(const std::vector<std::size_t>& matched) {
  std::vector<Message> result;
  for (std::size_t i : matched) {
    memory_.returned.push_back(memory_.seen[i].id);
    result.push_back(memory_.seen[i]);
  }
  finish_report();
  return result;
}

void WaitRun::finish_report() {
  report_.waited = duration_cast<milliseconds>(driver_.now() - start_);
  fill_seen(memory_, predicate_, report_);
}

void WaitRun::fail() {
  finish_report();
  if (last_failure_) throw_server_gone(report_, last_failure_);
  throw WaitTimeout(report_);
}

void WaitRun::fail_quota(const QuotaExceededError& e,
                         std::optional<std::chrono::sys_seconds> reset) {
  report_.waited = duration_cast<milliseconds>(driver_.now() - start_);
  throw QuotaExceededError(quota_message(report_, e, reset), e.server_message(), e.endpoint(),
                           e.quota(), reset);
}

}  // namespace

std::vector<Message> wait_loop(WaitDriver& driver, const std::string& address,
                               const MessagePredicate& predicate, const WaitGoal& goal,
                               const WaitOptions& options, WaitMemory& memory, WaitReport& report) {
  return WaitRun(driver, address, predicate, goal, options, memory, report).run();
}

}  // namespace tempmail::detail
