#include "tempmail/errors.hpp"

namespace tempmail {

Error::Error(const std::string& what, int http_status, std::string server_message,
             std::string endpoint)
    : std::runtime_error(what),
      http_status_(http_status),
      server_message_(std::move(server_message)),
      endpoint_(std::move(endpoint)) {}

}  // namespace tempmail
