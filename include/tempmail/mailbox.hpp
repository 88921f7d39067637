/// @file mailbox.hpp
/// An owning handle on one disposable mailbox: created on construction,
/// deleted on destruction (also when a test throws), and able to wait for
/// messages, returning each message at most once.
///
///   tempmail::Mailbox box(client);
///   app.signup(box.address());
///   tempmail::Message m = box.wait_for(
///       [](const tempmail::Message& m) { return m.subject.find("Verify") != std::string::npos; },
///       30s);
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tempmail/client.hpp"
#include "tempmail/domain.hpp"
#include "tempmail/message.hpp"
#include "tempmail/wait.hpp"

namespace tempmail {
namespace detail {
struct WaitGoal;
}  // namespace detail

struct MailboxOptions {
  /// Ask for this user name (through the switch endpoint) instead of a random one.
  std::optional<std::string> username;
  /// With `username`: the domain; default the first domain of the plan.
  std::optional<std::string> domain;
  WaitOptions wait{};
};

/// Thread safety: one Mailbox is used by one thread at a time; distinct
/// Mailbox objects (sharing one Client) may be used from different threads.
/// The destructor deletes the mailbox unless `release()` was called; a failure
/// to delete is recorded (`cleanup_error()` before destruction is not possible,
/// so it is written to stderr) and never thrown.
class Mailbox {
 public:
  /// Creates the mailbox. `client` must outlive this object.
  explicit Mailbox(Client& client, MailboxOptions options = {});
  /// A handle on an existing mailbox that this handle does not own: waits work,
  /// the destructor leaves the mailbox alone.
  [[nodiscard]] static Mailbox attach(Client& client, std::string address, WaitOptions wait = {});
  Mailbox(Mailbox&& other) noexcept;
  Mailbox& operator=(Mailbox&& other) noexcept;
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;
  ~Mailbox();

  [[nodiscard]] const std::string& address() const noexcept { return info_.email; }
  [[nodiscard]] const MailboxInfo& info() const noexcept { return info_; }

  /// The first message not returned before that matches `predicate`, polling
  /// with the backoff of `MailboxOptions::wait` until `timeout` has passed
  /// (one last poll at the deadline). Throws WaitTimeout (with the report),
  /// QuotaExceededError when the quota resets only after the deadline,
  /// AuthError/NotFoundError at once.
  Message wait_for(const MessagePredicate& predicate, std::chrono::milliseconds timeout);
  /// The first `count` messages not returned before that match, in arrival order.
  std::vector<Message> wait_for_count(const MessagePredicate& predicate, std::size_t count,
                                      std::chrono::milliseconds timeout);
  /// Watches the mailbox for the whole `window` and throws UnexpectedMessage
  /// (listing it) as soon as a message not returned before matches
  /// `predicate`. Passing proves only that none arrived *within* the window:
  /// make it longer than the application takes to send what it should not.
  /// Throws like wait_for when the server stops answering or the quota runs out.
  void expect_none(const MessagePredicate& predicate, std::chrono::milliseconds window);
  /// Waits like wait_for_count for `count` matching messages, then watches
  /// `settle` longer: throws UnexpectedMessage when more than `count` match
  /// (a duplicate email, a second code). Returns the `count` messages, which
  /// count as returned. Takes up to `timeout + settle`; with `count` 0 it is
  /// expect_none(predicate, settle).
  std::vector<Message> wait_for_exactly(const MessagePredicate& predicate, std::size_t count,
                                        std::chrono::milliseconds timeout,
                                        std::chrono::milliseconds settle = kDefaultSettle);
  /// Every message in the mailbox now (one list call); does not count as returned.
  [[nodiscard]] std::vector<Message> messages();
  /// Every message any call on this handle has seen so far, in arrival order.
  [[nodiscard]] const std::vector<Message>& seen() const noexcept { return seen_; }
  /// The report of the latest wait (or expect_none).
  [[nodiscard]] const WaitReport& last_report() const noexcept { return last_report_; }

  /// Keep the mailbox on the server: the destructor will not delete it.
  void release() noexcept { owned_ = false; }
  /// Delete the mailbox now (throws on failure); the destructor then does nothing.
  void remove();

 private:
  Mailbox(Client& client, MailboxInfo info, WaitOptions wait, bool owned);
  std::vector<Message> run_wait(const MessagePredicate& predicate, const detail::WaitGoal& goal);

  Client* client_;
  MailboxInfo info_;
  WaitOptions wait_options_;
  bool owned_ = true;
  std::vector<Message> seen_;          // arrival order, each id once
  std::vector<std::string> returned_;  // ids returned by a wait
  std::string cursor_;                 // newest id a long-poll reported
  WaitReport last_report_;
};

}  // namespace tempmail
