// TLS server contexts for the local server's listeners: TLS 1.2 and 1.3
// only, from PEM files a user brings or from PEM text made at start-up.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>
#include <string>

namespace tempmail::local::detail {

/// Throws std::invalid_argument naming the file and OpenSSL's reason when
/// the certificate chain or the key cannot be used.
std::unique_ptr<boost::asio::ssl::context> server_tls_context(const std::filesystem::path& cert,
                                                              const std::filesystem::path& key,
                                                              const std::string& what);
/// The same from PEM text (a chain, then its key).
std::unique_ptr<boost::asio::ssl::context> server_tls_context_from_pem(const std::string& cert_pem,
                                                                       const std::string& key_pem);

}  // namespace tempmail::local::detail
