#include "accounts.hpp"

#include "secrets.hpp"

namespace signup {

std::pair<AccountStore::SignupResult, Challenge> AccountStore::sign_up(const std::string& email) {
  Challenge challenge{.token = random_token(), .code = random_digits(6)};
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  auto [it, created] = by_email_.try_emplace(email);
  Record& r = it->second;
  if (r.account.verified) return {SignupResult::kAlreadyVerified, {}};
  if (!r.token_hash.empty()) email_by_token_hash_.erase(r.token_hash);
  r.account.email = email;
  r.token_hash = sha256_hex(challenge.token);
  r.link_expires = now + limits_.link_ttl;
  r.code = challenge.code;
  r.code_expires = now + limits_.code_ttl;
  r.attempts_left = limits_.max_code_attempts;
  email_by_token_hash_[r.token_hash] = email;
  return {created ? SignupResult::kCreated : SignupResult::kResent, std::move(challenge)};
}

std::optional<std::string> AccountStore::verify_token(std::string_view token) {
  const std::string hash = sha256_hex(token);
  std::lock_guard lock(mutex_);
  auto t = email_by_token_hash_.find(hash);
  if (t == email_by_token_hash_.end()) return std::nullopt;
  Record& r = by_email_.at(t->second);
  if (Clock::now() >= r.link_expires) return std::nullopt;
  verify(r, VerifiedBy::kLink);
  return r.account.email;
}

AccountStore::CodeResult AccountStore::verify_code(const std::string& email,
                                                   std::string_view code) {
  std::lock_guard lock(mutex_);
  auto it = by_email_.find(email);
  if (it == by_email_.end()) return CodeResult::kNoAccount;
  Record& r = it->second;
  if (r.account.verified) return CodeResult::kAlreadyVerified;
  if (r.attempts_left <= 0) return CodeResult::kTooManyAttempts;
  if (Clock::now() >= r.code_expires) return CodeResult::kExpired;
  if (!constant_time_equal(code, r.code)) {
    --r.attempts_left;
    return r.attempts_left > 0 ? CodeResult::kWrongCode : CodeResult::kTooManyAttempts;
  }
  verify(r, VerifiedBy::kCode);
  return CodeResult::kVerified;
}

std::optional<Account> AccountStore::find(const std::string& email) const {
  std::lock_guard lock(mutex_);
  auto it = by_email_.find(email);
  if (it == by_email_.end()) return std::nullopt;
  return it->second.account;
}

// Both the link and the code are spent once either one is used.
void AccountStore::verify(Record& r, VerifiedBy by) {
  r.account.verified = true;
  r.account.verified_by = by;
  email_by_token_hash_.erase(r.token_hash);
  r.token_hash.clear();
  r.code.clear();
  r.attempts_left = 0;
}

std::string_view to_string(VerifiedBy by) {
  switch (by) {
    case VerifiedBy::kLink:
      return "link";
    case VerifiedBy::kCode:
      return "code";
    case VerifiedBy::kNotYet:
      break;
  }
  return "";
}

}  // namespace signup
