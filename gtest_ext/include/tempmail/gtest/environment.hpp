/// @file environment.hpp
/// Where a test binary's mailboxes live: the hosted Temp Mail service when
/// `TEMPMAIL_API_KEY` is set, otherwise a local server embedded in the test
/// binary (started once, on loopback, for the whole binary).
///
///   // in main(), or link tempmail::gtest_main which does this:
///   ::testing::AddGlobalTestEnvironment(new tempmail::gtest::Environment);
///   // in a test: hand the SMTP address to the application under test
///   app.set_smtp(tempmail::gtest::Environment::get().smtp_host(), ...smtp_port());
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tempmail/client.hpp"
#include "tempmail/local/server.hpp"

namespace tempmail::gtest {

/// Thread safety: `get()` and the accessors may be called from any thread once
/// the environment is set up; `client()` is itself thread-safe.
/// Destruction stops the embedded server, if there is one.
class Environment : public ::testing::Environment {
 public:
  Environment();
  ~Environment() override;

  /// The registered environment, or one made (and set up) on first use when
  /// none was registered.
  static Environment& get();

  void SetUp() override;
  void TearDown() override;

  /// The client every mailbox of this binary uses.
  Client& client();
  /// True when mail goes to the embedded local server.
  [[nodiscard]] bool is_local() const;
  /// The embedded server; nullptr when testing against the hosted service.
  [[nodiscard]] local::Server* local_server();
  /// Where the application under test should send mail (the embedded server's
  /// SMTP listener). Empty / 0 against the hosted service, which has its own MX.
  [[nodiscard]] std::string smtp_host() const;
  [[nodiscard]] std::uint16_t smtp_port() const;

 private:
  void ensure_set_up();
  std::unique_ptr<local::Server> server_;
  std::optional<Client> client_;
};

}  // namespace tempmail::gtest
