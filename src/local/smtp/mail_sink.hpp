// What the SMTP listener hands complete messages to. Implemented by the store
// (group commit: many sessions' messages in one transaction); tests may use a fake.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tempmail::local::detail {

class MailSink {
 public:
  virtual ~MailSink() = default;

  /// True when `address` (already lower-cased by the caller) is a live,
  /// unexpired mailbox that accepts mail. Called for every RCPT TO.
  virtual bool accepts_recipient(std::string_view address) = 0;

  /// Stores `raw` (the message as received, dot-unstuffed, with CRLF line ends)
  /// once for every address in `recipients`. Calls `done` exactly once, from
  /// any thread, after the message is durable for every recipient still live
  /// (an empty error_code), or with an error when it could not be stored.
  /// The SMTP session answers 250 only from `done` with no error.
  virtual void deliver(std::shared_ptr<const std::string> raw, std::vector<std::string> recipients,
                       std::function<void(std::error_code)> done) = 0;
};

}  // namespace tempmail::local::detail
