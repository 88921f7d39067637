#include "local/tls/server_context.hpp"

#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <stdexcept>

namespace tempmail::local::detail {
namespace {

namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> tls12_and_13() {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx->native_handle(), TLS1_3_VERSION);
  return ctx;
}

}  // namespace

std::unique_ptr<ssl::context> server_tls_context(const std::filesystem::path& cert,
                                                 const std::filesystem::path& key,
                                                 const std::string& what) {
  auto ctx = tls12_and_13();
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert.string(), ec);
  if (ec)
    throw std::invalid_argument("cannot use the certificate '" + cert.string() + "' (" + what +
                                "): " + ec.message() +
                                "; give a PEM file with the certificate, then its chain");
  ctx->use_private_key_file(key.string(), ssl::context::pem, ec);
  if (ec)
    throw std::invalid_argument("cannot use the private key '" + key.string() + "' (" + what +
                                "): " + ec.message() +
                                "; give the PEM file of the certificate's unencrypted key");
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw std::invalid_argument("the key '" + key.string() +
                                "' does not belong to the certificate '" + cert.string() + "' (" +
                                what + ")");
  return ctx;
}

std::unique_ptr<ssl::context> server_tls_context_from_pem(const std::string& cert_pem,
                                                          const std::string& key_pem) {
  auto ctx = tls12_and_13();
  ctx->use_certificate_chain(boost::asio::buffer(cert_pem));
  ctx->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem);
  return ctx;
}

}  // namespace tempmail::local::detail
