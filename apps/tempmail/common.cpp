#include "common.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string_view>

namespace tempmail::cli {

Client make_client(const GlobalOptions& global) {
  if (global.base_url.empty())
    throw UsageError(global.base_url_source +
                     " is empty: give the API as http(s)://HOST[:PORT] (a local tempmail-server "
                     "prints its URL), or leave it unset for " +
                     std::string(kDefaultBaseUrl));
  if (global.api_key.empty() && !global.api_key_source.empty())
    throw UsageError(
        "--api-key is empty: give the key, or leave the option out to use TEMPMAIL_API_KEY");
  if (global.api_key.empty())
    throw UsageError(
        "no API key: set TEMPMAIL_API_KEY or pass --api-key KEY (for tempmail-server without "
        "--api-key the key is local-dev-key)");
  return Client(ClientOptions{.base_url = global.base_url,
                              .api_key = global.api_key,
                              .user_agent = "tempmail-cli/" TEMPMAIL_VERSION});
}

CLI::Validator not_empty() {
  return CLI::Validator(
      [](const std::string& value) -> std::string {
        return value.empty() ? "the value is empty (an unset shell variable?)" : "";
      },
      "");
}

void write_stdout(std::string_view text) {
  errno = 0;
  std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
  std::cout.flush();
  if (!std::cout) {
    // Closed (>&-) or full (/dev/full): the pipeline must not take an empty
    // output for success.
    const int error = errno;
    throw CommandFailed("could not write the output to stdout" +
                        (error != 0 ? std::string(": ") + std::strerror(error) : std::string()));
  }
}

void print_json(const boost::json::value& doc) { write_stdout(boost::json::serialize(doc) + '\n'); }

boost::json::value message_json(const Message& message) {
  return boost::json::parse(to_json(message));
}

}  // namespace tempmail::cli
