// The embedded server without the client: links tempmail::local alone.
#include <iostream>

#include "tempmail/local/server.hpp"
#include "tempmail/version.hpp"

int main() {
  tempmail::local::Server server;
  std::cout << "local only: tempmail " << tempmail::kVersion << " at " << server.base_url() << "\n";
  return 0;
}
