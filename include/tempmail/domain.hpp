/// @file domain.hpp
/// The plan's domains (`GET /api/domains?type=...`) and a mailbox as the API
/// describes it (`POST /api/emails`, the switch endpoint).
///
///   tempmail::DomainList plan = client.domains();
///   tempmail::MailboxInfo box = client.create_mailbox();
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace tempmail {

/// One domain the account may use. `type` is as the service spells it ("Free").
struct Domain {
  std::string name;  ///< "domain" in the JSON
  std::string type;
  bool custom = false;

  bool operator==(const Domain&) const = default;
};

/// The plan: the type asked for, the types allowed, and the domains.
struct DomainList {
  std::string requested_type;
  std::vector<std::string> allowed_types;
  std::vector<Domain> domains;

  bool operator==(const DomainList&) const = default;
};

/// A mailbox as the service returns it on create and switch. This is a plain
/// value; `tempmail::Mailbox` is the owning handle that deletes it.
struct MailboxInfo {
  std::int64_t id = 0;
  std::string email;
  std::string domain;
  std::chrono::sys_seconds expire_at{};
  std::chrono::seconds expires_in{0};  ///< "expires_in_seconds"
  std::chrono::sys_seconds created_at{};
  std::string email_token;             ///< opaque

  bool operator==(const MailboxInfo&) const = default;
};

/// The API's JSON for the plan (the `data` object of the domains endpoint).
std::string to_json(const DomainList& domains);
/// The API's JSON for a mailbox (the `data` object of create and switch).
std::string to_json(const MailboxInfo& mailbox);

void PrintTo(const Domain& domain, std::ostream* os);
void PrintTo(const MailboxInfo& mailbox, std::ostream* os);

}  // namespace tempmail
