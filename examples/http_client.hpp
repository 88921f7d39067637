// A tiny blocking HTTP/1.1 client (plain http:// only, Boost.Beast) for the
// examples: what a test uses to drive the web application under test.
//
//   examples::HttpResponse r = examples::http_post(app_url + "/signup",
//       examples::form({{"email", address}}));
//   if (r.status != 202) ...
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace examples {

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

/// GET `url`. Throws std::runtime_error when the URL is not http://, the server
/// cannot be reached, or no whole response arrives within `timeout`.
HttpResponse http_get(const std::string& url,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
/// POST `body` to `url` with the given Content-Type (default: a form).
HttpResponse http_post(const std::string& url, const std::string& body,
                       const std::string& content_type = "application/x-www-form-urlencoded",
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// An application/x-www-form-urlencoded body: form({{"email", "a@b.c"}}).
std::string form(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace examples
