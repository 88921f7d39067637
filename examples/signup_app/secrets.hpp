// Unguessable values for the signup app, from OpenSSL's CSPRNG (RAND_bytes):
// verification tokens, one-time codes, and the hash the app stores instead of
// a token. std::random_device / <random> engines are not meant for secrets.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace signup {

/// 32 random bytes as base64url without padding (43 characters): the token
/// of a verification link.
std::string random_token();
/// `digits` random decimal digits, uniformly distributed (leading zeros kept):
/// the 6-digit code, a reference number.
std::string random_digits(std::size_t digits);
/// `bytes` random bytes as lower-case hex: ids that only need to be unique.
std::string random_hex(std::size_t bytes);
/// SHA-256 of `text` as hex. The app stores this, never the token itself, so a
/// leaked account table does not leak live links.
std::string sha256_hex(std::string_view text);
/// Compares in time that does not depend on where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace signup
