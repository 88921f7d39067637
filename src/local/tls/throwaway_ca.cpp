#include "local/tls/throwaway_ca.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace tempmail::local::detail {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

[[noreturn]] void fail(const char* step) {
  char buf[256] = "unknown error";
  if (const unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  throw std::runtime_error(std::string("making the throwaway TLS certificate failed at ") + step +
                           ": " + buf);
}

void check(int ok, const char* step) {
  if (ok != 1) fail(step);
}

Key new_key() {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) fail("generating a P-256 key");
  return key;
}

bool is_ip(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) fail("making a certificate extension");
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(ok, "adding a certificate extension");
}

// A certificate for `subject_key`, named `common_name`, valid from an hour ago
// for 30 days, with a random serial; not signed yet.
Cert new_certificate(EVP_PKEY* subject_key, const std::string& common_name) {
  Cert cert(X509_new());
  if (!cert) fail("allocating a certificate");
  check(X509_set_version(cert.get(), 2), "setting the version");
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof serial), "drawing a serial number");
  serial[0] &= 0x7F;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) == nullptr) {
    BN_free(bn);
    fail("setting the serial number");
  }
  BN_free(bn);
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600) == nullptr)
    fail("setting the validity");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>("tempmail-server"), -1,
                                   -1, 0),
        "naming the certificate");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0),
        "naming the certificate");
  check(X509_set_pubkey(cert.get(), subject_key), "setting the public key");
  return cert;
}

std::string pem_of(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("writing a certificate as PEM");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string pem_of(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("writing a key as PEM");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

ThrowawayTls make_throwaway_tls(const std::vector<std::string>& hosts) {
  if (hosts.empty()) throw std::invalid_argument("make_throwaway_tls: no host names");
  const Key ca_key = new_key();
  const Cert ca = new_certificate(ca_key.get(), "tempmail-server throwaway CA");
  check(X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())), "naming the issuer");
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0) fail("signing the CA");

  const Key key = new_key();
  const Cert cert = new_certificate(key.get(), hosts.front());
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())), "naming the issuer");
  std::string names;
  for (const auto& h : hosts) {
    if (h.empty()) continue;
    names += (names.empty() ? "" : ",") + std::string(is_ip(h) ? "IP:" : "DNS:") + h;
  }
  add_extension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_extension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), ca.get(), NID_subject_alt_name, names);
  add_extension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) fail("signing the certificate");

  const std::string ca_pem = pem_of(ca.get());
  return ThrowawayTls{
      .ca_pem = ca_pem, .cert_pem = pem_of(cert.get()) + ca_pem, .key_pem = pem_of(key.get())};
}

std::filesystem::path write_private_temp_file(const std::string& pem, const std::string& prefix) {
  std::string path = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX.pem")).string();
  const int fd = ::mkstemps(path.data(), 4);  // 0600
  if (fd < 0)
    throw std::runtime_error("cannot create a file for the throwaway CA in '" +
                             std::filesystem::temp_directory_path().string() +
                             "': " + std::generic_category().message(errno));
  std::size_t done = 0;
  while (done < pem.size()) {
    const ssize_t n = ::write(fd, pem.data() + done, pem.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(path.c_str());
      throw std::runtime_error("cannot write '" + path +
                               "': " + std::generic_category().message(error));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return path;
}

}  // namespace tempmail::local::detail
