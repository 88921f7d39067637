// Configured SMTP users (issue 12's --smtp-user USER:PASS): only these
// credentials pass AUTH, and knowing the passwords lets the protocol offer
// CRAM-MD5. The passwords stay in memory only; nothing here prints them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "local/smtp/protocol.hpp"

namespace tempmail::local::detail {

class SmtpCredentials : public SmtpAuthenticator {
 public:
  /// Adds a user; a second password for the same user replaces the first.
  void add(std::string user, std::string password);
  [[nodiscard]] bool empty() const { return users_.empty(); }

  bool accepts(std::string_view user, std::string_view password) override;
  std::optional<std::string> password_of(std::string_view user) override;
  bool knows_passwords() const override { return !users_.empty(); }

 private:
  std::map<std::string, std::string, std::less<>> users_;
};

/// "USER:PASS" (split at the first ':'; the password may hold more) ->
/// the pair. Throws std::invalid_argument saying what is missing, never
/// quoting the password.
std::pair<std::string, std::string> parse_smtp_user(std::string_view text);

}  // namespace tempmail::local::detail
