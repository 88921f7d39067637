// "My App": a small web application with an email-verification signup, the
// kind of application tempmail-cpp exists to test. It serves
//
//   POST /signup          email=...  (form or JSON): emails a link and a 6-digit code
//   GET  /verify?token=...           the link in the email: verifies the account
//   POST /verify-code     email=...&code=...  (form or JSON): verifies with the code
//   GET  /account?email=...          {"email": ..., "verified": true|false, "verified_by": ...}
//   GET  /                           a page with the signup form
//
// and sends its email over SMTP to a configurable server (in tests: the
// tempmail local server's SMTP listener).
//
//   signup::SignupApp app({.smtp_host = "127.0.0.1", .smtp_port = 2525});
//   app.start();  // listens on 127.0.0.1, a free port
//   std::cout << app.url();
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace signup {

struct SignupAppOptions {
  /// HOST:PORT to listen on; port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  /// Where the app sends its email.
  std::string smtp_host = "127.0.0.1";
  std::uint16_t smtp_port = 2525;
  /// The base of the links in the email ("https://myapp.example"); empty: the
  /// address the app listens on, `url()`.
  std::string public_url;
  std::string from_name = "My App";
  std::string from_address = "noreply@myapp.test";
  /// Threads serving HTTP (sending email blocks one of them).
  int threads = 2;
  /// Receives one line per request ("POST /signup 202") and per email sent;
  /// never tokens or codes. Empty: no log.
  std::function<void(std::string_view)> log;
};

/// Thread safety: `url()`, `public_url()` and `port()` may be called from any
/// thread once started; `start()` and `stop()` from one thread.
/// The destructor stops the server; it never throws.
class SignupApp {
 public:
  explicit SignupApp(SignupAppOptions options = {});
  ~SignupApp();
  SignupApp(const SignupApp&) = delete;
  SignupApp& operator=(const SignupApp&) = delete;

  /// Binds the listener and serves on background threads. Throws
  /// std::runtime_error saying which address could not be used.
  void start();
  /// Stops accepting and closes every connection. Idempotent.
  void stop() noexcept;

  /// "http://127.0.0.1:PORT": where the app listens.
  [[nodiscard]] std::string url() const;
  /// The base of the links in its email.
  [[nodiscard]] std::string public_url() const;
  [[nodiscard]] std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace signup
