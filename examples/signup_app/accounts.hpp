// The signup app's accounts, in memory: who signed up, the outstanding link
// and code for each unverified account, and who is verified. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace signup {

/// How an account got verified.
enum class VerifiedBy { kNotYet, kLink, kCode };

/// What `GET /account` shows.
struct Account {
  std::string email;
  bool verified = false;
  VerifiedBy verified_by = VerifiedBy::kNotYet;
};

/// What the verification email carries. Only the app's email ever sees these;
/// the store keeps a hash of the token and the code with its expiry.
struct Challenge {
  std::string token;  ///< for the link: /verify?token=...
  std::string code;   ///< 6 digits
};

struct AccountLimits {
  std::chrono::minutes code_ttl{15};
  std::chrono::hours link_ttl{24};
  int max_code_attempts = 5;
};

class AccountStore {
 public:
  enum class SignupResult { kCreated, kResent, kAlreadyVerified };
  enum class CodeResult {
    kVerified,
    kWrongCode,
    kExpired,
    kTooManyAttempts,
    kNoAccount,
    kAlreadyVerified
  };

  explicit AccountStore(AccountLimits limits = {}) : limits_(limits) {}

  /// Creates the account, or gives an unverified one a new link and code (the
  /// old ones stop working). The challenge is empty for kAlreadyVerified.
  std::pair<SignupResult, Challenge> sign_up(const std::string& email);
  /// Verifies the account the token was issued for; returns its address, or
  /// nullopt when the token is unknown, replaced or expired.
  std::optional<std::string> verify_token(std::string_view token);
  /// Checks a typed code. After `max_code_attempts` wrong codes the code is
  /// dead and the user must sign up again for a new one.
  CodeResult verify_code(const std::string& email, std::string_view code);
  std::optional<Account> find(const std::string& email) const;

 private:
  using Clock = std::chrono::system_clock;
  struct Record {
    Account account;
    std::string token_hash;
    Clock::time_point link_expires;
    std::string code;
    Clock::time_point code_expires;
    int attempts_left = 0;
  };
  void verify(Record& r, VerifiedBy by);

  AccountLimits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, Record, std::less<>> by_email_;
  std::map<std::string, std::string, std::less<>> email_by_token_hash_;
};

/// "link", "code" or "" for JSON.
std::string_view to_string(VerifiedBy by);

}  // namespace signup
