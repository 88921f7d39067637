// One SMTP command line (RFC 5321 section 4.1) -> what the client asked for.
// Pure and total: any byte string gives a command or a syntax error, never an
// exception (fuzzed). The session decides whether the command fits its state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tempmail::local::detail {

enum class SmtpVerb {
  kHelo,
  kEhlo,
  kMail,
  kRcpt,
  kData,
  kRset,
  kNoop,
  kQuit,
  kVrfy,
  kHelp,
  kAuth,            // RFC 4954
  kStartTls,        // RFC 3207
  kNotImplemented,  // a real SMTP verb this server does not offer (EXPN, BDAT...): 502
  kUnknown,         // not an SMTP verb at all: 500
};

enum class MailBody { kUnspecified, k7Bit, k8BitMime };

/// A reply for a command that is wrong in itself, whatever the session state.
struct CommandError {
  int code = 501;                  // 501 syntax, 555 unknown MAIL/RCPT parameter
  std::string enhanced = "5.5.4";  // RFC 3463 status, e.g. "5.5.2"
  std::string text;                // what was wrong, for the client

  bool operator==(const CommandError&) const = default;
};

struct SmtpCommand {
  SmtpVerb verb = SmtpVerb::kUnknown;
  std::string verb_text;  // the verb as sent, upper-cased (for replies and logs)
  /// HELO/EHLO: the client's domain or address literal; VRFY/HELP/NOOP: the
  /// argument as sent; AUTH: the SASL mechanism, upper-cased ("PLAIN").
  std::string argument;
  /// AUTH: the initial response as sent (base64, or "=" for an empty one).
  std::optional<std::string> initial_response;
  /// MAIL FROM / RCPT TO: the mailbox without angle brackets or source route,
  /// exactly as sent (not lower-cased); empty for the null reverse-path "<>".
  std::string address;
  std::optional<std::uint64_t> size;       // MAIL ... SIZE=n (RFC 1870)
  MailBody body = MailBody::kUnspecified;  // MAIL ... BODY= (RFC 6152)
  bool smtputf8 = false;                   // MAIL ... SMTPUTF8 (RFC 6531)
  /// Set when the line is malformed; the fields above are then unreliable.
  std::optional<CommandError> error;

  bool operator==(const SmtpCommand&) const = default;
};

/// Longest mailbox accepted in MAIL/RCPT (RFC 5321 4.5.3.1.3: a path is at
/// most 256 octets including the angle brackets).
inline constexpr std::size_t kMaxPathLength = 256;

/// Parses one command line without its line end ("MAIL FROM:<a@b> SIZE=10").
/// Verbs are case-insensitive; a space after "FROM:"/"TO:" and a missing pair
/// of angle brackets are tolerated (common in the wild).
SmtpCommand parse_command(std::string_view line);

}  // namespace tempmail::local::detail
