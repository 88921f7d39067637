#include "local/smtp/credentials.hpp"

#include <stdexcept>

#include "local/smtp/sasl.hpp"

namespace tempmail::local::detail {

void SmtpCredentials::add(std::string user, std::string password) {
  users_.insert_or_assign(std::move(user), std::move(password));
}

bool SmtpCredentials::accepts(std::string_view user, std::string_view password) {
  const auto found = users_.find(user);
  // An unknown user costs the same comparison as a wrong password.
  const std::string_view expected = found == users_.end() ? std::string_view() : found->second;
  const bool equal = equal_in_constant_time(expected, password);
  return found != users_.end() && equal;
}

std::optional<std::string> SmtpCredentials::password_of(std::string_view user) {
  const auto found = users_.find(user);
  if (found == users_.end()) return std::nullopt;
  return found->second;
}

std::pair<std::string, std::string> parse_smtp_user(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    throw std::invalid_argument("an SMTP user is USER:PASS, with a ':' between them");
  }
  if (colon == 0) throw std::invalid_argument("an SMTP user needs a name before the ':'");
  if (colon + 1 == text.size()) {
    throw std::invalid_argument("SMTP user " + std::string(text.substr(0, colon)) +
                                " needs a password after the ':'");
  }
  return {std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

}  // namespace tempmail::local::detail
