/// @file local/eml.hpp
/// Reads a raw RFC 5322 message (an .eml file) exactly as the local server
/// decodes mail that arrives over SMTP, without a server: for extraction
/// tests and the `tempmail extract` command.
///
///   tempmail::Message m = tempmail::local::parse_eml(read_file("signup.eml"));
///   auto code = tempmail::otp(m);
#pragma once

#include <string_view>

#include "tempmail/message.hpp"

namespace tempmail::local {

/// Subject, sender, recipient (the To header as written), the HTML body as
/// `content` when there is one (`html` true) or else the text body, and the
/// attachments' names, extensions and sizes. `id` and attachment `url`s are
/// empty and `received_at` is zero: only a mailbox gives them. Never throws
/// on malformed mail: what cannot be decoded is kept as text.
[[nodiscard]] Message parse_eml(std::string_view raw);

}  // namespace tempmail::local
