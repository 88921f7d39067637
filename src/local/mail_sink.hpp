// Where complete messages go, and what the SMTP session said about each: the
// seam between taking mail in (src/local/smtp) and keeping it (the store,
// which implements MailSink; tests may use a fake). Neither side includes the
// other.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tempmail::local::detail {

/// How a connection was encrypted.
struct TlsInfo {
  std::string version;  ///< "TLSv1.3"
  std::string cipher;   ///< "TLS_AES_256_GCM_SHA384"

  bool operator==(const TlsInfo&) const = default;
};

/// The facts of the session a message arrived in (never a password).
struct Envelope {
  std::string mail_from;                 ///< the MAIL FROM address, as given ("" for <>)
  std::vector<std::string> rcpt_to;      ///< every accepted RCPT TO of the delivery, lower-cased
  std::string helo;                      ///< the name given with EHLO/HELO
  std::string client;                    ///< the client's address, "IP:PORT"
  std::optional<TlsInfo> tls;            ///< none: sent in clear
  std::optional<std::string> auth_user;  ///< the AUTH user name, if any
  bool injected = false;                 ///< stored through POST /_local/messages, not SMTP

  bool operator==(const Envelope&) const = default;
};

class MailSink {
 public:
  virtual ~MailSink() = default;

  /// True when `address` (already lower-cased by the caller) is a live,
  /// unexpired mailbox that accepts mail. Called for every RCPT TO.
  virtual bool accepts_recipient(std::string_view address) = 0;

  /// Stores `raw` (the message as received, dot-unstuffed, with CRLF line ends)
  /// once for every address in `envelope.rcpt_to`, with its envelope. Calls
  /// `done` exactly once, from any thread, after the message is durable for
  /// every recipient still live (an empty error_code), or with an error when
  /// it could not be stored. The SMTP session answers 250 only from `done`
  /// with no error.
  virtual void deliver(std::shared_ptr<const std::string> raw, Envelope envelope,
                       std::function<void(std::error_code)> done) = 0;
};

}  // namespace tempmail::local::detail
