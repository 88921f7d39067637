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
    if (!s.returned_before) s.why_not = predicate.explain(m);
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

std::vector<Message> wait_loop(WaitDriver& driver, const std::string& address,
                               const MessagePredicate& predicate, std::size_t count,
                               milliseconds timeout, const WaitOptions& options, WaitMemory& memory,
                               WaitReport& report) {
  options.backoff.validate();
  if (timeout.count() < 0) throw std::invalid_argument("wait timeout must not be negative");
  report = WaitReport{.mailbox = address,
                      .wanted = predicate.description(),
                      .wanted_count = count,
                      .timeout = timeout};
  const auto start = driver.now();
  const auto deadline = start + timeout;
  int attempt = 0;
  // Long-poll until the server turns out not to offer it; then poll the list.
  bool try_long_poll = options.long_poll;
  // The failure of the latest poll; null once a poll succeeded after it.
  std::exception_ptr last_failure;

  while (true) {
    const CallOptions call{.deadline = std::max(driver.now(), deadline) + kFinalPollGrace,
                           .retry = RetryPolicy::none()};
    bool polled = false;
    bool held = false;  // a long-poll answered: no backoff before the next call
    try {
      if (try_long_poll) {
        // Rounded up: a hold of 0 ms with time left would spin until the deadline.
        const auto hold = std::clamp(std::chrono::ceil<milliseconds>(deadline - driver.now()),
                                     milliseconds{0}, kMaxLongPollHold);
        ++report.polls;
        std::optional<MessageList> got = driver.long_poll(address, memory.cursor, hold, call);
        if (got) {
          report.long_poll = polled = held = true;
          if (!got->messages.empty()) memory.cursor = got->messages.back().id;
          remember_new(*got, memory.seen);
        } else {
          --report.polls;  // only the discovery: not a poll of the mailbox
          try_long_poll = false;
        }
      }
      if (!try_long_poll) {
        ++report.polls;
        remember_new(driver.list(address, call), memory.seen);
        polled = true;
      }
    } catch (const NotFoundError&) {
      // The message the cursor names was deleted: start again from everything.
      if (!try_long_poll || memory.cursor.empty()) throw;
      memory.cursor.clear();
      continue;
    } catch (const QuotaExceededError& e) {
      // Wait for the reset only when it comes before the deadline.
      auto retry_at = e.retry_at();
      if (retry_at) {
        auto until =
            driver.now() + duration_cast<steady::duration>(*retry_at - driver.system_now());
        if (until <= deadline) {
          ++report.errors;
          report.last_error = e.what();
          driver.sleep_until(until);
          continue;
        }
      }
      report.waited = duration_cast<milliseconds>(driver.now() - start);
      throw QuotaExceededError(quota_message(report, e, retry_at), e.server_message(), e.endpoint(),
                               e.quota(), retry_at);
    } catch (const TransportError& e) {
      ++report.errors;
      report.last_error = e.what();
      last_failure = std::current_exception();
    } catch (const ServerError& e) {
      ++report.errors;
      report.last_error = e.what();
      last_failure = std::current_exception();
    }
    // Other errors (authentication, permission, not found, decode) end the wait at once.

    if (polled) {
      last_failure = nullptr;
      std::vector<const Message*> matched;
      for (const auto& m : memory.seen) {
        if (contains(memory.returned, m.id) || !predicate.matches(m)) continue;
        matched.push_back(&m);
        if (matched.size() == count) break;
      }
      report.matched = matched.size();
      if (options.on_poll)
        options.on_poll(WaitProgress{.elapsed = duration_cast<milliseconds>(driver.now() - start),
                                     .polls = report.polls,
                                     .messages_seen = memory.seen.size(),
                                     .matched = matched.size()});
      if (matched.size() == count) {
        std::vector<Message> result;
        for (const Message* m : matched) {
          memory.returned.push_back(m->id);
          result.push_back(*m);
        }
        report.waited = duration_cast<milliseconds>(driver.now() - start);
        fill_seen(memory, predicate, report);
        return result;
      }
    }

    const auto now = driver.now();
    if (now >= deadline) break;
    if (held) continue;
    const auto next =
        std::min(now + options.backoff.delay(attempt++, driver.random_unit()), deadline);
    driver.sleep_until(next);
  }

  report.waited = duration_cast<milliseconds>(driver.now() - start);
  fill_seen(memory, predicate, report);
  if (last_failure) throw_server_gone(report, last_failure);
  throw WaitTimeout(report);
}

}  // namespace tempmail::detail
