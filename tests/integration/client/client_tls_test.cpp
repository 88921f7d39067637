// HTTPS against the embedded server with a CA the test creates and throws
// away: the certificate chain and the host name are both verified.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/subprocess.hpp"
#include "tempmail/client.hpp"
#include "tempmail/local/server.hpp"

namespace tempmail {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto result = test::run_process(argv, {.timeout = 60s});
  ASSERT_TRUE(result.ok()) << result.describe();
}

// A CA and two leaf certificates it signed: one for 127.0.0.1, one for a
// name the server is not reached by.
class ThrowawayCa {
 public:
  ThrowawayCa() : dir_(fs::temp_directory_path() / ("tempmail-ca-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "1", "-subj",
             "/CN=tempmail throwaway test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    leaf("good", "subjectAltName=IP:127.0.0.1,DNS:localhost");
    leaf("wrong-host", "subjectAltName=DNS:not-this-host.test");
  }
  ~ThrowawayCa() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  void leaf(const std::string& name, const std::string& san) {
    std::ofstream(path(name + ".ext")) << san << "\nbasicConstraints=CA:FALSE\n"
                                       << "extendedKeyUsage=serverAuth\n";
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             path(name + ".key"), "-out", path(name + ".csr"), "-subj", "/CN=" + name});
    openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", path("ca.pem"), "-CAkey",
             path("ca.key"), "-CAcreateserial", "-out", path(name + ".pem"), "-days", "1",
             "-extfile", path(name + ".ext")});
  }

  fs::path dir_;
};

class ClientOverHttps : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ca_ = new ThrowawayCa(); }
  static void TearDownTestSuite() {
    delete ca_;
    ca_ = nullptr;
  }

  static local::Server https_server(const std::string& leaf) {
    return local::Server(
        {.tls_cert_file = ca_->path(leaf + ".pem"), .tls_key_file = ca_->path(leaf + ".key")});
  }

  static ThrowawayCa* ca_;
};

ThrowawayCa* ClientOverHttps::ca_ = nullptr;

TEST_F(ClientOverHttps, CallsTheApiWhenTheCaIsTrusted) {
  local::Server server = https_server("good");
  ASSERT_THAT(server.base_url(), ::testing::StartsWith("https://127.0.0.1:"));
  Client client(
      {.base_url = server.base_url(), .api_key = server.api_key(), .ca_file = ca_->path("ca.pem")});
  const MailboxInfo box = client.create_mailbox();
  EXPECT_TRUE(client.messages(box.email).messages.empty());
  client.delete_mailbox(box.email);
}

TEST_F(ClientOverHttps, VerifiesAHostNameSentBySni) {
  local::Server server = https_server("good");
  Client client({.base_url = "https://localhost:" + std::to_string(server.http_port()),
                 .api_key = server.api_key(),
                 .ca_file = ca_->path("ca.pem")});
  EXPECT_FALSE(client.domains().domains.empty());
}

TEST_F(ClientOverHttps, RejectsACertificateFromAnUntrustedCa) {
  local::Server server = https_server("good");
  Client client({.base_url = server.base_url(), .api_key = server.api_key()});  // system CAs
  try {
    (void)client.domains();
    FAIL() << "expected TlsError";
  } catch (const TlsError& e) {
    EXPECT_EQ(e.http_status(), 0);
    EXPECT_THAT(e.what(), HasSubstr("certificate"));
    EXPECT_THAT(e.what(), HasSubstr("ClientOptions::ca_file"));
  }
}

TEST_F(ClientOverHttps, RejectsACertificateForAnotherHost) {
  local::Server server = https_server("wrong-host");
  Client client(
      {.base_url = server.base_url(), .api_key = server.api_key(), .ca_file = ca_->path("ca.pem")});
  try {
    (void)client.domains();
    FAIL() << "expected TlsError";
  } catch (const TlsError& e) {
    EXPECT_THAT(e.what(), HasSubstr("mismatch"));
  }
}

TEST_F(ClientOverHttps, IsNotRetriedAfterATlsFailure) {
  local::Server server = https_server("wrong-host");
  Client client(
      {.base_url = server.base_url(), .api_key = server.api_key(), .ca_file = ca_->path("ca.pem")});
  // A certificate problem does not go away: failing fast beats backing off.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW((void)client.domains(), TlsError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

}  // namespace
}  // namespace tempmail
