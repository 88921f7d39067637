#include "local/store/message.hpp"

#include <exception>

namespace tempmail::local::detail {

MessageFields MessageFields::from(const tempmail::detail::ParsedMessage& parsed) {
  MessageFields f{.subject = parsed.subject,
                  .from_name = parsed.from_name,
                  .from_email = parsed.from_email,
                  .html = parsed.is_html(),
                  .content = parsed.content(),
                  .attachments = {}};
  f.attachments.reserve(parsed.attachments.size());
  for (const auto& a : parsed.attachments)
    f.attachments.push_back(StoredAttachment{a.name, a.content_type, a.data});
  return f;
}

LazyFields::LazyFields(std::shared_ptr<const std::string> raw,
                       std::shared_ptr<const FieldParser> parser)
    : raw_(std::move(raw)), parser_(std::move(parser)) {}

LazyFields::LazyFields(MessageFields fields) : fields_(std::move(fields)) {
  std::call_once(once_, [] {});
  parsed_.store(true, std::memory_order_release);
}

const MessageFields& LazyFields::get() const {
  std::call_once(once_, [this] {
    try {
      fields_ = MessageFields::from(parser_->parse(*raw_));
    } catch (const std::exception& e) {
      // Kept (never dropped), like a message whose raw text went missing.
      if (parser_->log)
        parser_->log(std::string("a message is listed without its subject and content: its text "
                                 "could not be parsed: ") +
                     e.what());
    }
    raw_.reset();
    parsed_.store(true, std::memory_order_release);
  });
  return fields_;
}

}  // namespace tempmail::local::detail
