// A throwaway certificate authority and a server certificate signed by it,
// made at start-up with OpenSSL's API (no `openssl` subprocess), so that an
// application configured for STARTTLS or implicit TLS can verify the local
// server once its test trusts the CA, without anyone bringing certificates.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tempmail::local::detail {

struct ThrowawayTls {
  std::string ca_pem;    ///< the CA's certificate: what a client trusts
  std::string cert_pem;  ///< the server's certificate, then the CA's (a chain)
  std::string key_pem;   ///< the server certificate's private key
};

/// A new CA (P-256, valid from an hour ago for 30 days) and a server
/// certificate for `hosts` (DNS names or IP addresses, as subjectAltNames;
/// the first is also its common name). Throws std::runtime_error naming
/// OpenSSL's error when a step fails.
ThrowawayTls make_throwaway_tls(const std::vector<std::string>& hosts);

/// Writes `pem` to a new file only this user can read (0600) in the system's
/// temporary directory and returns its path; the caller removes it.
std::filesystem::path write_private_temp_file(const std::string& pem, const std::string& prefix);

}  // namespace tempmail::local::detail
