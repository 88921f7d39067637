#include "common/api_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "common/time.hpp"

namespace tempmail::detail {

namespace json = boost::json;

json::object to_api_json(const Attachment& a) {
  return json::object{{"name", a.name}, {"extension", a.extension}, {"size", a.size}, {"url", a.url}};
}

json::object to_api_json(const Message& m) {
  json::array attachments;
  for (const auto& a : m.attachments) attachments.push_back(to_api_json(a));
  // Key order as in the contract's sample.
  return json::object{{"is_seen", m.is_seen},
                      {"subject", m.subject},
                      {"from", m.from_name},
                      {"from_email", m.from_email},
                      {"to", m.to},
                      {"receivedAt", format_received_at(m.received_at)},
                      {"id", m.id},
                      {"html", m.html},
                      {"content", m.content},
                      {"attachments", std::move(attachments)}};
}

json::object to_api_json(const Domain& d) {
  return json::object{{"domain", d.name}, {"type", d.type}, {"custom", d.custom}};
}

json::object to_api_json(const DomainList& d) {
  json::array types;
  for (const auto& t : d.allowed_types) types.push_back(json::string(t));
  json::array domains;
  for (const auto& x : d.domains) domains.push_back(to_api_json(x));
  return json::object{{"requested_type", d.requested_type},
                      {"allowed_types", std::move(types)},
                      {"domains", std::move(domains)}};
}

json::object to_api_json(const MailboxInfo& m) {
  return json::object{{"id", m.id},
                      {"email", m.email},
                      {"domain", m.domain},
                      {"expire_at", format_iso8601(m.expire_at)},
                      {"expires_in_seconds", m.expires_in.count()},
                      {"created_at", format_iso8601(m.created_at)},
                      {"email_token", m.email_token}};
}

json::object to_api_json(const MessageList& list) {
  json::array messages;
  for (const auto& m : list.messages) messages.push_back(to_api_json(m));
  return json::object{{"status", true}, {"mailbox", list.mailbox}, {"messages", std::move(messages)}};
}

}  // namespace tempmail::detail

namespace tempmail {

std::string to_json(const Message& message) {
  return boost::json::serialize(detail::to_api_json(message));
}
std::string to_json(const MessageList& list) {
  return boost::json::serialize(detail::to_api_json(list));
}
std::string to_json(const DomainList& domains) {
  return boost::json::serialize(detail::to_api_json(domains));
}
std::string to_json(const MailboxInfo& mailbox) {
  return boost::json::serialize(detail::to_api_json(mailbox));
}

}  // namespace tempmail
