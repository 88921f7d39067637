// Unguessable identifiers from a cryptographic source (OpenSSL's RAND_bytes).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tempmail::detail {

/// `n` characters drawn uniformly from `alphabet` (no modulo bias).
std::string random_string(std::size_t n, std::string_view alphabet);
/// `n` characters of [A-Za-z0-9]: message ids (46), tokens.
std::string random_alnum(std::size_t n);
/// A uniformly distributed double in [0, 1), for jitter (not secret).
double random_unit();

}  // namespace tempmail::detail
