#include "common/random.hpp"

#include <openssl/rand.h>

#include <array>
#include <random>
#include <stdexcept>

namespace tempmail::detail {

std::string random_string(std::size_t n, std::string_view alphabet) {
  if (alphabet.empty() || alphabet.size() > 256)
    throw std::invalid_argument("random_string: alphabet must have 1 to 256 characters");
  // Reject bytes at or above the largest multiple of the alphabet size, so
  // every character is equally likely.
  const unsigned limit = 256 - (256 % alphabet.size());
  std::string out;
  out.reserve(n);
  std::array<unsigned char, 64> buf{};
  while (out.size() < n) {
    if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
      throw std::runtime_error("the system's random number generator failed (OpenSSL RAND_bytes)");
    for (unsigned char b : buf) {
      if (b >= limit) continue;
      out.push_back(alphabet[b % alphabet.size()]);
      if (out.size() == n) break;
    }
  }
  return out;
}

std::string random_alnum(std::size_t n) {
  return random_string(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
}

double random_unit() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace tempmail::detail
