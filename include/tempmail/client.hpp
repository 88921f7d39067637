/// @file client.hpp
/// A typed client for the Temp Mail user API: all eight endpoints, over HTTP
/// or HTTPS, with keep-alive connections, quota headers, typed errors and
/// retries of requests that are safe to repeat.
///
///   tempmail::Client client({.base_url = server.base_url(), .api_key = key});
///   tempmail::MailboxInfo box = client.create_mailbox();
///   for (const auto& m : client.messages(box.email).messages) std::cout << m.subject << "\n";
///   client.delete_mailbox(box.email);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tempmail/domain.hpp"
#include "tempmail/errors.hpp"
#include "tempmail/message.hpp"
#include "tempmail/policy.hpp"
#include "tempmail/quota.hpp"
#include "tempmail/version.hpp"

namespace tempmail {

/// The hosted service.
inline constexpr std::string_view kDefaultBaseUrl = "https://v1.tempmailg.com";

/// How a `Client` connects. Fill with designated initializers; every field has
/// a sensible default except `api_key`.
struct ClientOptions {
  /// `http://` or `https://`, host, optional port, no path.
  std::string base_url = std::string(kDefaultBaseUrl);
  /// The Bearer key. Never printed, logged or put in an error message.
  std::string api_key;
  std::chrono::milliseconds connect_timeout{10000};  ///< resolve + connect + TLS handshake
  std::chrono::milliseconds request_timeout{30000};  ///< one request: write and whole response
  RetryPolicy retry{};
  std::string user_agent = "tempmail-cpp/" TEMPMAIL_VERSION_STRING;
  /// PEM file of CAs to trust instead of the system's; empty for the system store.
  std::filesystem::path ca_file{};
  /// Largest JSON response accepted.
  std::size_t max_response_bytes = std::size_t{64} << 20;
  /// Largest attachment `attachment()` and `download_attachment()` accept.
  std::size_t max_attachment_bytes = std::size_t{64} << 20;
  /// Idle keep-alive connections kept for reuse (each thread takes its own).
  std::size_t max_idle_connections = 8;
};

/// Per-call settings, passed as the last argument of any call.
struct CallOptions {
  /// The call, including retries and waits before them, ends by then: a retry
  /// that could not finish in time is not started.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  /// Replaces `ClientOptions::retry` for this call.
  std::optional<RetryPolicy> retry;
};

/// The Temp Mail user API.
///
/// Thread safety: all member functions may be called from several threads at
/// once; each call takes an idle keep-alive connection from a small pool (or
/// opens one) and returns it when the response was read in full.
/// The destructor closes every pooled connection; it never throws.
class Client {
 public:
  /// Validates the options (std::invalid_argument naming the field when the
  /// base URL cannot be used or the retry policy is out of range). Does not connect.
  explicit Client(ClientOptions options);
  /// Options from the environment: `TEMPMAIL_API_KEY` (required: throws
  /// std::invalid_argument saying to set it when absent) and `TEMPMAIL_BASE_URL`
  /// (optional; set but empty is std::invalid_argument), over `defaults`.
  [[nodiscard]] static Client from_env(ClientOptions defaults = {});

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  /// 1. `GET /api/domains?type=TYPE`: the plan and its domains.
  [[nodiscard]] DomainList domains(std::string_view type = "free", CallOptions opts = {});
  /// 2. `POST /api/emails`: a new random mailbox. Not retried after the request
  /// may have reached the server (it could create a second mailbox).
  [[nodiscard]] MailboxInfo create_mailbox(CallOptions opts = {});
  /// 3. `POST /api/emails/{current}/{username}/{domain}`: move an owned mailbox
  /// to a new address. Not retried after the request may have been received.
  [[nodiscard]] MailboxInfo switch_mailbox(std::string_view current_email,
                                           std::string_view username, std::string_view domain,
                                           CallOptions opts = {});
  /// 4. `DELETE /api/emails/{email}`.
  void delete_mailbox(std::string_view email, CallOptions opts = {});
  /// 5. `GET /api/messages?email={email}`: every message, content included.
  [[nodiscard]] MessageList messages(std::string_view email, CallOptions opts = {});
  /// 6. `GET /api/messages/{id}`: one message; the server marks it seen.
  [[nodiscard]] Message message(std::string_view id, CallOptions opts = {});
  /// 7. `DELETE /api/messages/{id}`.
  void delete_message(std::string_view id, CallOptions opts = {});
  /// 8. `GET /api/messages/{id}/attachments/{name}`: the bytes, in memory, at
  /// most `max_attachment_bytes` (else ResponseTooLargeError).
  [[nodiscard]] std::string attachment(std::string_view message_id, std::string_view name,
                                       CallOptions opts = {});
  /// 8. The same, streamed to `file` as it arrives (replaced only when the
  /// download completed). Returns the number of bytes written.
  std::uint64_t download_attachment(std::string_view message_id, std::string_view name,
                                    const std::filesystem::path& file, CallOptions opts = {});
  /// 8. The same, streamed to `out`. Returns the number of bytes written.
  std::uint64_t download_attachment(std::string_view message_id, std::string_view name,
                                    std::ostream& out, CallOptions opts = {});

  /// Local-server extension (`GET /_local/wait`, not part of the hosted API):
  /// waits up to `hold` for the mailbox to hold a message newer than message
  /// `after_id` (any message when empty) and returns the newer ones, oldest
  /// first (possibly none, when `hold` passed). Not counted in the quota.
  /// Returns nullopt when the server does not offer it; see `supports_long_poll()`.
  [[nodiscard]] std::optional<MessageList> long_poll(std::string_view email,
                                                     std::string_view after_id,
                                                     std::chrono::milliseconds hold,
                                                     CallOptions opts = {});
  /// Whether the server offers `long_poll` (the local server does, the hosted
  /// service does not): asked once with `GET /_local/health` (by `opts.deadline`,
  /// not retried), then remembered.
  [[nodiscard]] bool supports_long_poll(CallOptions opts = {});

  /// The quota headers of the latest response that carried them (from any thread).
  [[nodiscard]] std::optional<Quota> last_quota() const;
  /// The options in use; `api_key` is included, so do not print them.
  [[nodiscard]] const ClientOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tempmail
