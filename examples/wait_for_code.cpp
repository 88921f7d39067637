// Waiting for a verification email and reading the code and the link out of
// it, with the plain client API (no GoogleTest). Read it top to bottom:
//
//   1. start a local Temp Mail server (in this process, on loopback),
//   2. create a disposable mailbox,
//   3. play the application under test: send the mailbox a verification email,
//   4. wait for it with a predicate, 5. extract the code and the link,
//   6. the mailbox deletes itself when it goes out of scope.
//
// Against the hosted service you would skip step 1 and write
// `tempmail::Client client = tempmail::Client::from_env();` (TEMPMAIL_API_KEY).
//
//   ./wait_for_code
#include <chrono>
#include <iostream>
#include <optional>
#include <string>

#include "smtp_send.hpp"
#include "tempmail/client.hpp"
#include "tempmail/extract.hpp"
#include "tempmail/local/server.hpp"
#include "tempmail/mailbox.hpp"

// What the application under test would send (headers after To:, then the body).
constexpr const char* kVerificationEmail =
    "From: My App <noreply@myapp.test>\r\n"
    "Subject: Your My App verification code\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>Hi! Your verification code is <b>731 904</b>.</p>\r\n"
    "<p>Or <a href=\"https://myapp.test/verify?token=q8Zt3kP1\">confirm your email</a>.</p>\r\n"
    "<p style=\"color:#888\">Order #20240117 &middot; "
    "<a href=\"https://myapp.test/unsubscribe\">Unsubscribe</a></p>\r\n";

int main() try {
  using namespace std::chrono_literals;

  // 1. The local server serves the Temp Mail API and takes mail in over SMTP.
  //    Ports are picked by the system; the API key is the local default.
  tempmail::local::Server server;
  tempmail::Client client({.base_url = server.base_url(), .api_key = server.api_key()});

  std::string address;
  {
    // 2. A Mailbox owns one disposable address: created here, deleted at the
    //    closing brace below (also if something throws in between).
    tempmail::Mailbox mailbox(client);
    address = mailbox.address();
    std::cout << "1. created mailbox " << address << "\n";

    // 3. Your application would send this. Here we send it ourselves, over
    //    SMTP, to the local server (a real application is pointed there too).
    examples::send_mail(server.smtp_host(), server.smtp_port(), "noreply@myapp.test", {address},
                        "To: " + address + "\r\n" + kVerificationEmail);
    std::cout << "2. sent it a verification email over SMTP\n";

    // 4. Wait (polling with backoff) until a message matches the predicate.
    //    Any `bool(const tempmail::Message&)` works; the description is what a
    //    timeout report says was expected. After 30 s it throws
    //    tempmail::WaitTimeout, whose what() lists what did arrive.
    tempmail::Message msg = mailbox.wait_for(
        tempmail::MessagePredicate(
            [](const tempmail::Message& m) {
              return m.from_email == "noreply@myapp.test" &&
                     m.subject.find("verification code") != std::string::npos;
            },
            "is from noreply@myapp.test with \"verification code\" in the subject"),
        30s);
    std::cout << "3. received \"" << msg.subject << "\" after " << mailbox.last_report().polls
              << " poll(s)\n";

    // 5. Read it the way a person would: the code to type (the order number
    //    is not mistaken for it) and the link to follow (not "Unsubscribe").
    std::optional<std::string> code = tempmail::otp(msg);
    std::optional<tempmail::Link> link = tempmail::verification_link(msg);
    if (!code || !link) throw std::runtime_error("no code or no verification link in the email");
    std::cout << "4. code: " << *code << "\n"
              << "   link: " << link->url << " (token " << link->query_param("token").value_or("?")
              << ")\n";
    if (*code != "731904") throw std::runtime_error("expected the code 731904, got " + *code);
  }  // 6. ~Mailbox deletes the mailbox here.

  // The mailbox is gone: the API says so.
  try {
    (void)client.messages(address);
    throw std::runtime_error("the mailbox still exists after ~Mailbox");
  } catch (const tempmail::NotFoundError&) {
    std::cout << "5. the mailbox deleted itself\n";
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "wait_for_code failed: " << e.what() << "\n";
  return 1;
}
