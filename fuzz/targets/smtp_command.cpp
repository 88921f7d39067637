// SMTP command lines (RFC 5321 4.1) -> tempmail::local::detail::parse_command.
// Besides crashes: what the parser accepts stays within the limits the
// session relies on, and no reply text can carry a line break into the reply.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "local/smtp/command.hpp"

using tempmail::local::detail::kMaxPathLength;
using tempmail::local::detail::parse_command;
using tempmail::local::detail::SmtpVerb;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto command = parse_command(line);

  for (char c : command.verb_text) TEMPMAIL_FUZZ_CHECK(c >= 'A' && c <= 'Z');
  if (command.error) {
    TEMPMAIL_FUZZ_CHECK(command.error->code >= 500 && command.error->code <= 599);
    TEMPMAIL_FUZZ_CHECK(!tempmail::fuzz::has_control(command.error->text));
    TEMPMAIL_FUZZ_CHECK(!tempmail::fuzz::has_control(command.error->enhanced));
    return 0;
  }
  switch (command.verb) {
    case SmtpVerb::kMail:
    case SmtpVerb::kRcpt:
      TEMPMAIL_FUZZ_CHECK(command.address.size() + 2 <= kMaxPathLength);
      TEMPMAIL_FUZZ_CHECK(!tempmail::fuzz::has_control(command.address));
      TEMPMAIL_FUZZ_CHECK(tempmail::fuzz::valid_utf8(command.address));
      TEMPMAIL_FUZZ_CHECK(command.verb == SmtpVerb::kMail || !command.address.empty());
      break;
    case SmtpVerb::kHelo:
    case SmtpVerb::kEhlo:
      TEMPMAIL_FUZZ_CHECK(!command.argument.empty() && command.argument.size() <= 255);
      TEMPMAIL_FUZZ_CHECK(!tempmail::fuzz::has_control(command.argument));
      break;
    default:
      break;
  }
  return 0;
}
