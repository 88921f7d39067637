// Pure decoding of the API's JSON bodies into the public value types.
//
// Every function here takes untrusted bytes and either returns a value or
// throws tempmail::DecodeError naming the JSON path that was wrong (e.g.
// "data.domains[0].custom"; empty when the body is not JSON at all). They
// never crash on any input: they are fuzzed. The DecodeError they throw has
// no status or endpoint; the client adds both.
#pragma once

#include <string>
#include <string_view>

#include "tempmail/domain.hpp"
#include "tempmail/message.hpp"

namespace tempmail::detail {

/// 1. `{"status": true, "data": {"requested_type", "allowed_types", "domains": [...]}}`.
DomainList decode_domain_list(std::string_view body);
/// 2., 3. `{"status": true, "data": {"id", "email", "domain", "expire_at", ...}}`.
MailboxInfo decode_mailbox_info(std::string_view body);
/// 5. `{"status": true, "mailbox": "...", "messages": [...]}` (no data wrapper).
MessageList decode_message_list(std::string_view body);
/// 6. `{"status": true, "data": {...one message...}}`.
Message decode_message(std::string_view body);
/// 4., 7. `{"status": true, "message": "..."}`; an empty body is accepted too.
void decode_ack(std::string_view body);

/// What an error response says: its JSON `message` (or `error`) when it has
/// one, else a short one-line excerpt of the body (an HTML 502 page becomes
/// its text). Empty for an empty body. Never throws.
std::string error_body_message(std::string_view body) noexcept;

}  // namespace tempmail::detail
