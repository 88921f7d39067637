// API keys -> accounts. Only SHA-256 digests of the keys are kept; a key is
// never stored or logged. Each key is its own account, identified by the hex
// of its digest.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tempmail::local::detail {

class Keyring {
 public:
  /// Throws std::invalid_argument for an empty key (without echoing any key).
  explicit Keyring(const std::vector<std::string>& keys);

  /// The account of the key in an `Authorization: Bearer <key>` header value,
  /// or nullopt. Compares digests in constant time against every key.
  [[nodiscard]] std::optional<std::string> account_for_header(std::string_view authorization) const;
  [[nodiscard]] std::optional<std::string> account_for_key(std::string_view key) const;

  /// The account id a key maps to (SHA-256 hex), e.g. for tests.
  static std::string account_of(std::string_view key);

 private:
  using Digest = std::array<unsigned char, 32>;
  static Digest digest(std::string_view key);
  std::vector<Digest> digests_;
};

}  // namespace tempmail::local::detail
