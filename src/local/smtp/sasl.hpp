// The SASL pieces of SMTP AUTH (RFC 4954): strict base64, the PLAIN message
// (RFC 4616) and the CRAM-MD5 digest (RFC 2195). Pure and total (fuzzed
// through the protocol).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tempmail::local::detail {

/// Decodes base64 (RFC 4648 4, with its padding); nullopt for anything else
/// (a character outside the alphabet, a missing or misplaced "=", spaces,
/// non-zero bits after the last byte).
std::optional<std::string> decode_base64(std::string_view text);
/// Base64 with padding (RFC 4648 4).
std::string encode_base64(std::string_view bytes);

struct PlainCredentials {
  std::string authzid;  // to act as; usually empty
  std::string authcid;  // the user name
  std::string password;
};

/// authzid NUL authcid NUL password, authcid and password not empty;
/// nullopt when the message is not that.
std::optional<PlainCredentials> parse_plain(std::string_view message);

/// HMAC-MD5 of `challenge` keyed with `password`, as 32 lower-case hex
/// digits: what a CRAM-MD5 client sends after its user name and a space.
std::string cram_md5_digest(std::string_view password, std::string_view challenge);

/// True when `a` and `b` are equal, in a time that depends only on their
/// lengths (for secrets).
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace tempmail::local::detail
