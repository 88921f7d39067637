#include "secrets.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace signup {
namespace {

std::vector<unsigned char> random_bytes(std::size_t n) {
  std::vector<unsigned char> bytes(n);
  if (RAND_bytes(bytes.data(), static_cast<int>(n)) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed: the system has no entropy source");
  return bytes;
}

std::string to_hex(const unsigned char* data, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0x0f]);
  }
  return out;
}

}  // namespace

std::string random_token() {
  const auto bytes = random_bytes(32);
  std::string b64(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  b64.resize(static_cast<std::size_t>(n));
  // base64 -> base64url (RFC 4648 section 5): safe in a URL without escaping.
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  for (char& c : b64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return b64;
}

std::string random_digits(std::size_t digits) {
  std::string out;
  while (out.size() < digits) {
    // Rejection sampling: values at or above the largest multiple of 10^9 that
    // fits in 32 bits are drawn again, so every digit is equally likely.
    constexpr std::uint32_t kBlock = 1'000'000'000;
    constexpr std::uint32_t kLimit = UINT32_MAX - UINT32_MAX % kBlock;
    const auto bytes = random_bytes(4);
    const std::uint32_t v = (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
                            (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
    if (v >= kLimit) continue;
    std::string block = std::to_string(v % kBlock);
    out += std::string(9 - block.size(), '0') + block;
  }
  out.resize(digits);
  return out;
}

std::string random_hex(std::size_t bytes) {
  const auto b = random_bytes(bytes);
  return to_hex(b.data(), b.size());
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL EVP_Digest(SHA-256) failed");
  return to_hex(digest, n);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace signup
