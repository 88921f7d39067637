/// @file local/server.hpp
/// The Temp Mail API served on this machine, with an SMTP listener that takes
/// mail in: tests and CI run without a hosted account.
///
///   tempmail::local::Server server;  // ephemeral loopback ports, in-memory store
///   tempmail::Client client({.base_url = server.base_url(), .api_key = server.api_key()});
///   // the application under test sends to server.smtp_host():server.smtp_port()
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tempmail::local {

/// The key accepted on loopback when no key is configured.
inline constexpr const char* kLocalDevKey = "local-dev-key";

/// The only domain type the Temp Mail API defines (API-CONTRACT.md, `GET /api/domains`).
inline constexpr const char* kFreeDomainType = "free";
/// Upper bounds of `ServerOptions` fields (the lower bounds are in their comments).
inline constexpr std::size_t kMaxThreads = 256;
inline constexpr std::chrono::seconds kMaxMailboxTtl{366LL * 24 * 60 * 60};  // a year
inline constexpr std::int64_t kMaxMonthlyQuota = 1'000'000'000'000;
inline constexpr std::size_t kMaxMessageBytes = std::size_t{1} << 30;  // 1 GiB

/// A domain the server hands out and accepts mail for.
struct DomainConfig {
  /// A DNS name in lower case: dot-separated labels of a-z, 0-9 and '-' (not
  /// at either end of a label), each 1 to 63 characters, 253 in all.
  std::string name = "example.com";
  std::string type = kFreeDomainType;  ///< "free"; the API shows it capitalised ("Free")

  bool operator==(const DomainConfig&) const = default;
};

struct ServerOptions {
  /// HOST:PORT for the API; port 0 picks a free port.
  std::string http_listen = "127.0.0.1:0";
  /// HOST:PORT for SMTP; port 0 picks a free port.
  std::string smtp_listen = "127.0.0.1:0";
  /// Accepted Bearer keys, each its own account: visible ASCII, no spaces.
  /// Empty: `kLocalDevKey`, and only when both listeners are on loopback
  /// (else the constructor throws).
  std::vector<std::string> api_keys{};
  /// At least one, no name twice.
  std::vector<DomainConfig> domains{DomainConfig{}};
  /// SQLite file (WAL); empty keeps everything in memory.
  std::filesystem::path db_path{};
  /// From 1 s to `kMaxMailboxTtl`.
  std::chrono::seconds mailbox_ttl{600};
  /// API calls per key per month, from 0 to `kMaxMonthlyQuota`.
  std::int64_t monthly_quota = 50000;
  /// Serve the API over HTTPS with this certificate chain and key (PEM).
  std::filesystem::path tls_cert_file{};
  std::filesystem::path tls_key_file{};
  /// Threads serving HTTP and SMTP, from 1 to `kMaxThreads`.
  std::size_t threads = 2;
  /// SMTP SIZE limit; larger messages get 552. From 1 to `kMaxMessageBytes`.
  std::size_t max_message_bytes = std::size_t{25} << 20;
  /// With `db_path`: flush every commit to disk before answering 250, so
  /// acknowledged messages survive power loss too (a few ms per commit; many
  /// connections share one flush). Without it they survive kill -9 and
  /// crashes of this process, and reach the disk at WAL checkpoints.
  bool fsync = false;

  // SMTP the way real applications send (every default keeps plain SMTP,
  // where AUTH PLAIN/LOGIN is offered and any user name and password pass).
  /// SMTP also offers STARTTLS (RFC 3207). Off by default: some clients
  /// (Nodemailer among them) upgrade whenever it is offered and then refuse
  /// a certificate they do not trust.
  bool smtp_tls = false;
  /// A second SMTP listener speaking implicit TLS (RFC 8314), HOST:PORT
  /// (port 0 picks a free port); empty: none.
  std::string smtps_listen{};
  /// Certificate chain and key (PEM) for STARTTLS and `smtps_listen`. Empty:
  /// a throwaway CA is made at start-up with a certificate it signs for
  /// localhost, 127.0.0.1, ::1 and the SMTP listen hosts (`smtp_ca_file()`).
  std::filesystem::path smtp_cert_file{};
  std::filesystem::path smtp_key_file{};
  /// "USER:PASS": only these credentials pass AUTH (a wrong pair gets 535
  /// 5.7.8), AUTH is required, and CRAM-MD5 is offered too.
  std::vector<std::string> smtp_users{};
  /// MAIL FROM before a successful AUTH gets 530 5.7.0.
  bool smtp_require_auth = false;
  /// MAIL FROM on a connection without TLS gets 530 5.7.0 (implies `smtp_tls`).
  bool smtp_require_tls = false;
};

/// Starts both listeners in the constructor and serves on background threads
/// until `stop()` or destruction. Throws std::invalid_argument naming the
/// field and what it allows for bad options (checked before anything is
/// created or bound), or std::runtime_error saying which address could not
/// be bound.
///
/// Thread safety: the accessors may be called from any thread.
/// The destructor stops accepting, finishes messages in flight, closes the
/// database and joins its threads; it never throws.
class Server {
 public:
  explicit Server(ServerOptions options = {});
  Server(Server&&) noexcept;
  Server& operator=(Server&&) noexcept;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  /// "http://127.0.0.1:PORT" (or https:// with a certificate).
  [[nodiscard]] std::string base_url() const;
  [[nodiscard]] std::string smtp_host() const;
  [[nodiscard]] std::uint16_t smtp_port() const;
  [[nodiscard]] std::uint16_t http_port() const;
  /// The first accepted key (`kLocalDevKey` when none was configured).
  [[nodiscard]] std::string api_key() const;
  /// The implicit-TLS SMTP port (`smtps_listen`), 0 when there is none.
  [[nodiscard]] std::uint16_t smtps_port() const;
  /// The throwaway CA's certificate (PEM) that signed the SMTP certificate,
  /// for clients to trust; empty when there is no SMTP TLS or the
  /// certificate was given (`smtp_cert_file`).
  [[nodiscard]] std::string smtp_ca_pem() const;
  /// The same written to a private (0600) temporary file, removed when the
  /// server is destroyed; empty when `smtp_ca_pem()` is.
  [[nodiscard]] std::filesystem::path smtp_ca_file() const;
  /// Stop accepting, finish what is in flight, close the database. Idempotent.
  void stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tempmail::local
