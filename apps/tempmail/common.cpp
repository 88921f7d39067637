#include "common.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>

namespace tempmail::cli {

Client make_client(const GlobalOptions& global) {
  if (global.api_key.empty())
    throw UsageError(
        "no API key: set TEMPMAIL_API_KEY or pass --api-key KEY (for tempmail-server without "
        "--api-key the key is local-dev-key)");
  return Client(ClientOptions{.base_url = global.base_url,
                              .api_key = global.api_key,
                              .user_agent = "tempmail-cli/" TEMPMAIL_VERSION});
}

void print_json(const boost::json::value& doc) {
  std::cout << boost::json::serialize(doc) << '\n' << std::flush;
}

boost::json::value message_json(const Message& message) {
  return boost::json::parse(to_json(message));
}

std::string hide_secrets(std::string text, const std::vector<std::string>& secrets) {
  static constexpr std::string_view kRedacted = "[REDACTED]";
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (auto at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kRedacted.size()))
      text.replace(at, secret.size(), kRedacted);
  }
  return text;
}

}  // namespace tempmail::cli
