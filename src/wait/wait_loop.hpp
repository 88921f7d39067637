// The poll loop behind Mailbox::wait_for, apart from the network and the
// clock so unit tests drive it with a fake source and an instant clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tempmail/client.hpp"
#include "tempmail/message.hpp"
#include "tempmail/wait.hpp"

namespace tempmail::detail {

/// Everything a wait touches outside itself.
class WaitDriver {
 public:
  virtual ~WaitDriver() = default;
  /// One list call (the loop passes its deadline and no retries: it retries itself).
  virtual MessageList list(const std::string& address, const CallOptions& options) = 0;
  /// The server's long-poll (`Client::long_poll`); nullopt when it has none.
  virtual std::optional<MessageList> long_poll(const std::string& address,
                                               const std::string& after_id,
                                               std::chrono::milliseconds hold,
                                               const CallOptions& options) = 0;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual std::chrono::system_clock::time_point system_now() = 0;
  virtual void sleep_until(std::chrono::steady_clock::time_point when) = 0;
  /// In [0, 1), for jitter.
  virtual double random_unit() = 0;
};

/// The real thing: a Client, the steady clock, a real sleep.
class ClientWaitDriver final : public WaitDriver {
 public:
  explicit ClientWaitDriver(Client& client) : client_(client) {}
  MessageList list(const std::string& address, const CallOptions& options) override;
  std::optional<MessageList> long_poll(const std::string& address, const std::string& after_id,
                                       std::chrono::milliseconds hold,
                                       const CallOptions& options) override;
  std::chrono::steady_clock::time_point now() override;
  std::chrono::system_clock::time_point system_now() override;
  void sleep_until(std::chrono::steady_clock::time_point when) override;
  double random_unit() override;

 private:
  Client& client_;
};

/// What a Mailbox remembers between waits (owned by the Mailbox).
struct WaitMemory {
  std::vector<Message>& seen;          // arrival order, each id once
  std::vector<std::string>& returned;  // ids a wait has returned
  std::string& cursor;                 // the newest id a long-poll reported
};

/// The longest a single long-poll is asked to hold (the server allows 300 s).
inline constexpr std::chrono::milliseconds kMaxLongPollHold{60000};

/// Adds the messages of `list` not seen before to `seen`, oldest first (the API
/// does not define the list's order; ties keep the server's order).
void remember_new(const MessageList& list, std::vector<Message>& seen);

/// How long the last poll may run past the deadline: a poll started at the
/// deadline still needs time for its response.
inline constexpr std::chrono::milliseconds kFinalPollGrace{5000};

/// What a wait waits for.
struct WaitGoal {
  std::size_t count = 1;  ///< matching messages not returned before
  std::chrono::milliseconds timeout{0};
  /// More than `count` matching is a failure (UnexpectedMessage), and once
  /// `count` matched the wait watches `settle` longer. With `count` 0 the
  /// wait watches for `settle` from its start (expect_none).
  bool exact = false;
  std::chrono::milliseconds settle{0};
};

/// Polls until `goal.count` messages not returned before match, or
/// `goal.timeout` passes (then throws WaitTimeout); an exact goal then watches
/// for its settle time and throws UnexpectedMessage when more match. Fills
/// `report` either way.
std::vector<Message> wait_loop(WaitDriver& driver, const std::string& address,
                               const MessagePredicate& predicate, const WaitGoal& goal,
                               const WaitOptions& options, WaitMemory& memory, WaitReport& report);

}  // namespace tempmail::detail
