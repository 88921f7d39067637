#include "tempmail/local/eml.hpp"

#include "mime/parse.hpp"

namespace tempmail::local {

Message parse_eml(std::string_view raw) {
  tempmail::detail::ParsedMessage parsed = tempmail::detail::parse_message(raw);
  Message m;
  m.subject = std::move(parsed.subject);
  m.from_name = std::move(parsed.from_name);
  m.from_email = std::move(parsed.from_email);
  m.to = std::move(parsed.to);
  m.html = parsed.is_html();
  m.content = m.html ? std::move(parsed.html) : std::move(parsed.text);
  for (const auto& a : parsed.attachments)
    m.attachments.push_back(Attachment{.name = a.name,
                                       .extension = tempmail::detail::extension_of(a.name),
                                       .size = a.data.size()});
  return m;
}

}  // namespace tempmail::local
