// The SASL pieces of SMTP AUTH (RFC 4954): strict base64 and the PLAIN
// message (RFC 4616). Pure and total (fuzzed through the protocol).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tempmail::local::detail {

/// Decodes base64 (RFC 4648 4, with its padding); nullopt for anything else
/// (a character outside the alphabet, a missing or misplaced "=", spaces,
/// non-zero bits after the last byte).
std::optional<std::string> decode_base64(std::string_view text);

struct PlainCredentials {
  std::string authzid;  // to act as; usually empty
  std::string authcid;  // the user name
  std::string password;
};

/// authzid NUL authcid NUL password, authcid and password not empty;
/// nullopt when the message is not that.
std::optional<PlainCredentials> parse_plain(std::string_view message);

}  // namespace tempmail::local::detail
