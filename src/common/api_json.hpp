// The API's JSON shapes for the public value types, written in one place: the
// local server serves them, the CLI prints them, artifacts store them. Field
// names and formats are the contract's (receivedAt "YYYY-MM-DD HH:MM:SS",
// ISO 8601 with +00:00, capitalised domain type as given).
#pragma once

#include <boost/json/object.hpp>

#include "tempmail/domain.hpp"
#include "tempmail/message.hpp"

namespace tempmail::detail {

boost::json::object to_api_json(const Attachment& attachment);
boost::json::object to_api_json(const Message& message);
boost::json::object to_api_json(const Domain& domain);
boost::json::object to_api_json(const DomainList& domains);
boost::json::object to_api_json(const MailboxInfo& mailbox);
/// {"status": true, "mailbox": ..., "messages": [...]}: the list endpoint's body.
boost::json::object to_api_json(const MessageList& list);

}  // namespace tempmail::detail
