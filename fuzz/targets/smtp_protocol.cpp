// Whole SMTP sessions -> tempmail::local::detail::SmtpProtocol, as a socket
// adapter drives it. The first byte chooses how the rest is cut into reads.
// Besides crashes: the same bytes give the same replies and deliveries however
// they are cut (nothing depends on where a read ends, so no split can
// desynchronise a session or smuggle a message); every reply is well formed;
// buffered input stays within the line limits; every delivery is within the
// size and recipient limits, with CRLF line ends only; an AUTH exchange
// (PLAIN, LOGIN, base64, "*", "=") leaves a user name only after a 235.
// STARTTLS is offered: it drops whatever was buffered after it (so from there
// on the transcript depends on the cuts, as RFC 3207 wants, and is compared
// only up to its 220); the session then goes on as over TLS, checked as above.
// The first byte also sets "TLS required", "AUTH required" and configured
// credentials (app / secret, with CRAM-MD5 on a fixed challenge).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "local/smtp/credentials.hpp"
#include "local/smtp/protocol.hpp"

namespace {

using tempmail::local::detail::RecipientCheck;
using tempmail::local::detail::SmtpAction;
using tempmail::local::detail::SmtpLimits;
using tempmail::local::detail::SmtpProtocol;

const SmtpLimits kLimits{.hostname = "mx.test",
                         .max_message_bytes = 600,
                         .max_recipients = 3,
                         .max_command_line = 80,
                         .max_text_line = 200,
                         .max_errors = 12};

std::string fixed_date() { return "Fri, 04 Dec 2026 03:00:00 +0000"; }
std::string fixed_challenge() { return "1896.697170952"; }

// Mailboxes starting with "b" are live; with "t" the check fails (451).
class Recipients : public RecipientCheck {
 public:
  bool accepts_recipient(std::string_view address) override {
    if (!address.empty() && address.front() == 't') throw std::runtime_error("unavailable");
    return !address.empty() && address.front() == 'b';
  }
};

struct Transcript {
  std::string replies;
  std::vector<std::string> deliveries;  // recipients and raw text, as one string
  bool operator==(const Transcript&) const = default;
};

void check_replies(std::string_view out) {
  while (!out.empty()) {
    const auto end = out.find("\r\n");
    TEMPMAIL_FUZZ_CHECK(end != std::string_view::npos);
    const std::string_view line = out.substr(0, end);
    TEMPMAIL_FUZZ_CHECK(line.size() >= 4);
    TEMPMAIL_FUZZ_CHECK(line[0] >= '2' && line[0] <= '5');
    TEMPMAIL_FUZZ_CHECK(line[1] >= '0' && line[1] <= '9' && line[2] >= '0' && line[2] <= '9');
    TEMPMAIL_FUZZ_CHECK(line[3] == ' ' || line[3] == '-');
    TEMPMAIL_FUZZ_CHECK(line.find('\r') == std::string_view::npos);
    TEMPMAIL_FUZZ_CHECK(line.find('\n') == std::string_view::npos);
    out.remove_prefix(end + 2);
  }
}

Transcript run(std::string_view input, std::uint8_t cut, std::uint8_t flags) {
  Recipients recipients;
  tempmail::local::detail::SmtpCredentials credentials;
  credentials.add("app", "secret");
  SmtpProtocol protocol(kLimits, "192.0.2.1", recipients,
                        {.date = fixed_date,
                         .authenticator = (flags & 0x20) != 0 ? &credentials : nullptr,
                         .challenge = fixed_challenge,
                         .offer_starttls = true,
                         .require_tls = (flags & 0x40) != 0,
                         .require_auth = (flags & 0x80) != 0});
  Transcript transcript;
  std::optional<Transcript> before_tls;
  std::string replies_since_tls;  // for the 235 check: TLS forgets the AUTH
  protocol.greet();
  std::size_t delivered = 0;
  std::size_t at = 0;
  std::uint32_t state = cut;
  while (true) {
    SmtpAction action = protocol.advance();
    while (action == SmtpAction::kDeliver) {
      auto delivery = protocol.take_delivery();
      const auto& to = delivery.envelope.recipients;
      TEMPMAIL_FUZZ_CHECK(!to.empty() && to.size() <= kLimits.max_recipients);
      TEMPMAIL_FUZZ_CHECK(std::set<std::string>(to.begin(), to.end()).size() == to.size());
      const std::string& raw = *delivery.raw;
      TEMPMAIL_FUZZ_CHECK(raw.size() <= kLimits.max_message_bytes + 1024);
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\n') TEMPMAIL_FUZZ_CHECK(i > 0 && raw[i - 1] == '\r');
      }
      std::string record;
      for (const auto& address : to) record += address + ",";
      TEMPMAIL_FUZZ_CHECK(delivery.envelope.auth_user == protocol.auth_user());
      TEMPMAIL_FUZZ_CHECK(delivery.envelope.tls == protocol.tls());
      TEMPMAIL_FUZZ_CHECK((flags & 0x40) == 0 || delivery.envelope.tls);
      TEMPMAIL_FUZZ_CHECK((flags & 0x80) == 0 || delivery.envelope.auth_user);
      transcript.deliveries.push_back(record + "|" + delivery.envelope.mail_from + "|" +
                                      delivery.envelope.auth_user.value_or("-") + "|" + raw);
      // Every third delivery fails, so 451 and the session after it are covered.
      protocol.delivered(++delivered % 3 == 0 ? std::make_error_code(std::errc::io_error)
                                              : std::error_code());
      action = protocol.advance();
    }
    check_replies(protocol.output());
    transcript.replies += protocol.output();
    replies_since_tls += protocol.output();
    // A reply line starts after "\n" (the greeting comes first): 235 only for success.
    TEMPMAIL_FUZZ_CHECK(protocol.auth_user().has_value() ==
                        (("\n" + replies_since_tls).find("\n235 ") != std::string::npos));
    protocol.output().clear();
    if (action == SmtpAction::kClose) break;
    if (action == SmtpAction::kStartTls) {
      TEMPMAIL_FUZZ_CHECK(protocol.buffered() == 0);  // nothing sent in clear survives
      TEMPMAIL_FUZZ_CHECK(transcript.replies.ends_with("\r\n220 2.0.0 Ready to start TLS\r\n"));
      if (!before_tls) before_tls = transcript;
      protocol.tls_started();
      replies_since_tls.clear();
    }
    TEMPMAIL_FUZZ_CHECK(protocol.buffered() <=
                        std::max(kLimits.max_command_line, kLimits.max_text_line) + 1);
    if (at == input.size()) break;
    // The next read: 1 to 64 bytes, or all that is left when `cut` is 0.
    state = state * 1103515245u + 12345u;
    std::size_t n = cut == 0 ? input.size() - at : 1 + (state >> 16) % 64;
    n = std::min(n, input.size() - at);
    protocol.receive(input.substr(at, n));
    at += n;
  }
  return before_tls.value_or(transcript);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Transcript whole = run(input, 0, data[0]);
  const Transcript cut = run(input, data[0] == 0 ? 1 : data[0], data[0]);
  TEMPMAIL_FUZZ_CHECK(whole == cut);
  return 0;
}
