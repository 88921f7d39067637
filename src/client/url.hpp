// The base URL a Client talks to, and request targets built from it with
// every path segment and query value percent-encoded (Boost.URL).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tempmail::detail {

/// A validated `ClientOptions::base_url`.
struct BaseUrl {
  bool https = false;
  std::string host;         ///< to resolve, for SNI and certificate checks: "example.com", "::1"
  std::uint16_t port = 0;   ///< explicit or the scheme's default
  std::string host_header;  ///< "example.com", "127.0.0.1:8080", "[::1]:8080"

  bool operator==(const BaseUrl&) const = default;
};

/// Throws std::invalid_argument naming `ClientOptions.base_url` and saying
/// what is wrong: scheme other than http/https, no host, a bad port, user
/// info, a path other than "/", a query or a fragment.
BaseUrl parse_base_url(std::string_view text);

using QueryParam = std::pair<std::string_view, std::string_view>;

/// "/seg1/seg2?k=v": each segment and each value is percent-encoded as
/// needed (a segment never introduces a '/', "." or ".."; a value's '+', '&'
/// and '=' are encoded so no server reads them as syntax).
std::string make_target(std::initializer_list<std::string_view> segments,
                        std::initializer_list<QueryParam> query = {});

}  // namespace tempmail::detail
