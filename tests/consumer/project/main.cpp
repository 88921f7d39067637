// Builds against the installed headers and libraries only; starts the
// embedded server and makes one call through the client.
#include <iostream>

#include "tempmail/client.hpp"
#include "tempmail/local/server.hpp"

int main() {
  tempmail::local::Server server;
  tempmail::Client client({.base_url = server.base_url(), .api_key = server.api_key()});
  auto box = client.create_mailbox();
  client.delete_mailbox(box.email);
  std::cout << "consumer ok: " << box.email << " with user agent "
            << tempmail::ClientOptions{}.user_agent << "\n";
  return 0;
}
