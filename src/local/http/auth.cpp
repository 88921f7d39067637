#include "local/http/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

#include "common/ascii.hpp"

namespace tempmail::local::detail {
namespace {

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

using tempmail::detail::iequals;

}  // namespace

Keyring::Digest Keyring::digest(std::string_view key) {
  Digest d{};
  unsigned int len = 0;
  if (EVP_Digest(key.data(), key.size(), d.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != d.size())
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
  return d;
}

std::string Keyring::account_of(std::string_view key) {
  Digest d = digest(key);
  return hex(d.data(), d.size());
}

Keyring::Keyring(const std::vector<std::string>& keys) {
  for (const auto& k : keys) {
    if (k.empty()) throw std::invalid_argument("an API key is empty: pass a non-empty --api-key");
    digests_.push_back(digest(k));
  }
}

std::optional<std::string> Keyring::account_for_key(std::string_view key) const {
  if (key.empty()) return std::nullopt;
  const Digest presented = digest(key);
  // Compare with every key, without stopping early: the time taken does not
  // depend on which key (if any) matched, nor on how much of it matched.
  int match = -1;
  for (std::size_t i = 0; i < digests_.size(); ++i) {
    bool equal = CRYPTO_memcmp(presented.data(), digests_[i].data(), presented.size()) == 0;
    match = equal ? static_cast<int>(i) : match;
  }
  if (match < 0) return std::nullopt;
  return hex(presented.data(), presented.size());
}

std::optional<std::string> Keyring::account_for_header(std::string_view authorization) const {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme))
    return std::nullopt;
  std::string_view key = authorization.substr(kScheme.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
  return account_for_key(key);
}

}  // namespace tempmail::local::detail
