// The smallest whole round trip: start the embedded local server, create a
// mailbox through the API, send it an email over SMTP, read it back, download
// its attachment, and delete the mailbox.
//
//   ./client_round_trip
#include <chrono>
#include <iostream>

#include "smtp_send.hpp"
#include "tempmail/client.hpp"
#include "tempmail/local/server.hpp"

// An email with an HTML body and a text attachment (headers after To:, then the body).
constexpr const char* kMessage =
    "From: My App <hello@myapp.test>\r\n"
    "Subject: Verify your email\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b1\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>Your code is <b>482913</b>.</p>\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; name=\"terms.txt\"\r\n"
    "Content-Disposition: attachment; filename=\"terms.txt\"\r\n"
    "\r\n"
    "Be nice.\r\n"
    "--b1--\r\n";

int main() try {
  using namespace std::chrono_literals;

  tempmail::local::Server server;  // loopback, ephemeral ports, in memory
  tempmail::Client client({.base_url = server.base_url(), .api_key = server.api_key()});
  std::cout << "local server: API " << server.base_url() << ", SMTP " << server.smtp_host() << ":"
            << server.smtp_port() << "\n";

  tempmail::MailboxInfo box = client.create_mailbox();
  std::cout << "created mailbox " << box.email << " (expires in " << box.expires_in.count()
            << " s)\n";

  examples::send_mail(server.smtp_host(), server.smtp_port(), "hello@myapp.test", {box.email},
                      "To: " + box.email + "\r\n" + kMessage);
  std::cout << "sent a message over SMTP\n";

  // The server stores a message before it answers 250, so it is listed now.
  tempmail::MessageList list = client.messages(box.email);
  if (list.messages.empty()) throw std::runtime_error("the message did not arrive");
  const tempmail::Message& msg = list.messages.front();
  std::cout << "received \"" << msg.subject << "\" from " << msg.from_name << " <" << msg.from_email
            << ">: " << msg.content << "\n";

  tempmail::Message read = client.message(msg.id);
  std::cout << "read it (seen: " << (read.is_seen ? "yes" : "no") << ")\n";
  for (const auto& a : read.attachments)
    std::cout << "attachment " << a.name << ": \"" << client.attachment(read.id, a.name) << "\"\n";

  client.delete_mailbox(box.email);
  std::cout << "deleted " << box.email << "\n";
  if (auto quota = client.last_quota())
    std::cout << "quota: " << quota->used << " of " << quota->limit << " used\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "client_round_trip failed: " << e.what() << "\n";
  return 1;
}
