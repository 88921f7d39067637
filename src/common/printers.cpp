// Readable one-line forms of the public value types, for GoogleTest failures
// and logs.
#include <ostream>

#include "common/time.hpp"
#include "tempmail/domain.hpp"
#include "tempmail/message.hpp"
#include "tempmail/quota.hpp"

namespace tempmail {

void PrintTo(const Attachment& a, std::ostream* os) {
  *os << "Attachment{name=\"" << a.name << "\", size=" << a.size << "}";
}

void PrintTo(const Message& m, std::ostream* os) {
  *os << "Message{id=" << m.id << ", from=\"" << m.from_name << "\" <" << m.from_email
      << ">, to=" << m.to << ", subject=\"" << m.subject
      << "\", received_at=" << detail::format_received_at(m.received_at)
      << ", html=" << (m.html ? "true" : "false") << ", content=" << m.content.size()
      << " bytes, attachments=" << m.attachments.size() << "}";
}

std::ostream& operator<<(std::ostream& os, const Message& m) {
  PrintTo(m, &os);
  return os;
}

void PrintTo(const Domain& d, std::ostream* os) {
  *os << "Domain{" << d.name << ", type=" << d.type << (d.custom ? ", custom" : "") << "}";
}

void PrintTo(const MailboxInfo& m, std::ostream* os) {
  *os << "MailboxInfo{id=" << m.id << ", email=" << m.email
      << ", expire_at=" << detail::format_iso8601(m.expire_at) << "}";
}

void PrintTo(const Quota& q, std::ostream* os) {
  *os << "Quota{used " << q.used << " of " << q.limit << ", " << q.remaining << " remaining";
  if (q.reset) *os << ", resets " << detail::format_iso8601(*q.reset);
  *os << "}";
}

}  // namespace tempmail
