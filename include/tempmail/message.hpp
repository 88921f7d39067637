/// @file message.hpp
/// Plain value types the Temp Mail API returns: a received message and its
/// attachments, exactly the fields of `GET /api/messages?email=...`.
///
///   for (const tempmail::Message& m : client.messages(address)) std::cout << m.subject;
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace tempmail {

/// One attachment as the API lists it; download its bytes with
/// `Client::attachment(message_id, name)`.
struct Attachment {
  std::string name;       ///< file name, UTF-8 (may contain spaces and non-ASCII)
  std::string extension;  ///< e.g. "txt"; empty when the name has none
  std::uint64_t size = 0; ///< bytes
  std::string url;        ///< where the service serves the bytes

  bool operator==(const Attachment&) const = default;
};

/// One received message. `content` is HTML when `html` is true, else plain text.
struct Message {
  std::string id;          ///< opaque id, e.g. 46 characters of [A-Za-z0-9]
  std::string subject;
  std::string from_name;   ///< display name of the sender ("from" in the JSON)
  std::string from_email;  ///< address of the sender ("from_email")
  std::string to;          ///< the mailbox address the message was delivered to
  std::chrono::sys_seconds received_at{};  ///< "receivedAt", UTC, one-second resolution
  bool is_seen = false;
  bool html = false;
  std::string content;
  std::vector<Attachment> attachments;

  bool operator==(const Message&) const = default;
};

/// The list endpoint's answer: the mailbox it is for and its messages, in the
/// order the server sent them (which the API does not define).
struct MessageList {
  std::string mailbox;
  std::vector<Message> messages;

  bool operator==(const MessageList&) const = default;
};

/// The message as the API's JSON object (the list endpoint's element).
std::string to_json(const Message& message);
/// The list endpoint's whole body: {"status": true, "mailbox": ..., "messages": [...]}.
std::string to_json(const MessageList& list);

/// GoogleTest-friendly printers (found by ADL): one readable line each.
void PrintTo(const Attachment& attachment, std::ostream* os);
void PrintTo(const Message& message, std::ostream* os);
std::ostream& operator<<(std::ostream& os, const Message& message);

}  // namespace tempmail
