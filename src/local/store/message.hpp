// A stored message, and its content parsed from the raw text at most once.
//
// What the API shows of a message that only its raw text says (subject,
// sender, body, attachments) is parsed after the commit, not before the SMTP
// `250`. Rationale: the MIME parse was 40% of the CPU an acknowledged 1 KB
// message cost (bench/RESULTS.md, SMTP rows) and nothing durable depends on
// it: the raw text is what is stored. The store's parser thread parses each
// delivery shortly after its commit; a reader that gets there first parses it
// itself (LazyFields::get), so a message is complete for every reader the
// moment it is listed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "local/mail_sink.hpp"
#include "mime/parse.hpp"

namespace tempmail::local::detail {

using Parser = std::function<tempmail::detail::ParsedMessage(std::string_view raw)>;

struct StoredAttachment {
  std::string name;
  std::string content_type;
  std::string data;
};

/// What the API shows of a message that its raw text says.
struct MessageFields {
  std::string subject;
  std::string from_name;
  std::string from_email;
  bool html = false;
  std::string content;
  std::vector<StoredAttachment> attachments;
  /// Why the raw text could not be read (missing file, changed bytes); empty
  /// when it was. A damaged message stays listed, and is never served as if
  /// its text were whole.
  std::string damage;

  static MessageFields from(const tempmail::detail::ParsedMessage& parsed);
};

/// How raw texts become fields: the parser, and where a parser's failure is
/// reported (the message stays listed, with empty fields). Shared by the
/// store and every message not yet parsed.
struct FieldParser {
  Parser parse;
  std::function<void(std::string_view)> log;
};

/// A message's fields, parsed from its raw text by whoever asks first, once.
/// One instance serves every recipient's copy of a delivery.
/// Thread safety: every member may be called from any thread.
class LazyFields {
 public:
  /// Fields to be parsed from `raw` on first use.
  LazyFields(std::shared_ptr<const std::string> raw, std::shared_ptr<const FieldParser> parser);
  /// Fields already known (a message loaded at start-up).
  explicit LazyFields(MessageFields fields);
  LazyFields(const LazyFields&) = delete;
  LazyFields& operator=(const LazyFields&) = delete;

  /// The fields; parses the raw text (and lets go of it) on the first call.
  /// Calls racing the first wait for it. Never throws for a bad raw text.
  [[nodiscard]] const MessageFields& get() const;
  /// True once get() has returned (or would return without parsing).
  [[nodiscard]] bool parsed() const { return parsed_.load(std::memory_order_acquire); }

 private:
  mutable std::once_flag once_;
  mutable std::atomic<bool> parsed_{false};
  mutable std::shared_ptr<const std::string> raw_;
  std::shared_ptr<const FieldParser> parser_;
  mutable MessageFields fields_;
};

/// A message as stored; immutable once committed (its `seen` flag lives beside it).
struct StoredMessage {
  std::string id;
  std::int64_t seq = 0;  ///< commit order, increasing across the whole store
  std::string to;
  std::chrono::sys_seconds received_at{};
  std::shared_ptr<const LazyFields> lazy_fields;
  /// What the SMTP session said (shared by a delivery's copies); null for a
  /// message stored before envelopes were kept.
  std::shared_ptr<const Envelope> envelope;

  /// Subject, sender, body and attachments (parsed on first use if the
  /// store's parser thread has not done it yet).
  [[nodiscard]] const MessageFields& fields() const { return lazy_fields->get(); }

  /// The API's JSON of the fields the API shows (subject to content), made
  /// once by the HTTP layer on first use: a cache, not state.
  mutable std::once_flag json_once;
  mutable std::string json_fields;
};

struct MessageView {
  std::shared_ptr<const StoredMessage> message;
  bool seen = false;
};

}  // namespace tempmail::local::detail
