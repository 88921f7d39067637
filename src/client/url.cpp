#include "client/url.hpp"

#include <boost/url.hpp>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace tempmail::detail {
namespace {

namespace urls = boost::urls;

// RFC 3986 pchar minus the characters some servers treat as syntax inside a
// segment or decode differently ('+' as space, '&', '='): encoding those is
// always read back correctly, leaving them bare is not.
constexpr urls::grammar::lut_chars kSegmentChars =
    urls::unreserved_chars + urls::grammar::lut_chars("!$'()*,;:@");
// Query values: the same, plus '/' and '?' which RFC 3986 allows there.
constexpr urls::grammar::lut_chars kQueryValueChars =
    kSegmentChars + urls::grammar::lut_chars("/?");

[[noreturn]] void invalid(std::string_view text, const std::string& problem) {
  throw std::invalid_argument(
      "ClientOptions.base_url \"" + std::string(text) + "\" " + problem +
      "; use e.g. \"https://v1.tempmailg.com\" or \"http://127.0.0.1:8025\"");
}

}  // namespace

BaseUrl parse_base_url(std::string_view text) {
  auto parsed = urls::parse_uri(text);
  if (!parsed) invalid(text, "is not an absolute URL (" + parsed.error().message() + ")");
  const urls::url_view u = *parsed;
  BaseUrl out;
  if (u.scheme_id() == urls::scheme::https) {
    out.https = true;
  } else if (u.scheme_id() != urls::scheme::http) {
    invalid(text, "must use the http or https scheme");
  }
  if (!u.has_authority() || u.encoded_host().empty()) invalid(text, "has no host");
  if (u.has_userinfo())
    invalid(text, "must not contain user info (the key belongs in ClientOptions.api_key)");
  switch (u.host_type()) {
    case urls::host_type::ipv4:
      out.host = u.host_ipv4_address().to_string();
      break;
    case urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      break;
    case urls::host_type::name: {
      const std::string_view name = u.encoded_host();
      if (name.find('%') != std::string_view::npos)
        invalid(text, "has a percent-encoded host name");
      out.host.reserve(name.size());
      for (char c : name)
        out.host += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      break;
    }
    default:
      invalid(text, "has a host this client cannot connect to");
  }
  out.port = out.https ? 443 : 80;
  if (u.has_port()) {
    const std::string_view port = u.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
        value > 65535)
      invalid(text, "has an invalid port (1 to 65535)");
    out.port = static_cast<std::uint16_t>(value);
  }
  if (!u.encoded_path().empty() && u.encoded_path() != "/")
    invalid(text, "must not have a path (the client adds /api/...)");
  if (u.has_query()) invalid(text, "must not have a query");
  if (u.has_fragment()) invalid(text, "must not have a fragment");

  std::string host_for_header =
      u.host_type() == urls::host_type::ipv6 ? "[" + out.host + "]" : out.host;
  const bool default_port = out.port == (out.https ? 443 : 80);
  out.host_header =
      default_port ? host_for_header : host_for_header + ":" + std::to_string(out.port);
  return out;
}

std::string make_target(std::initializer_list<std::string_view> segments,
                        std::initializer_list<QueryParam> query) {
  std::string target;
  for (std::string_view segment : segments) {
    target += '/';
    // A bare "." or ".." would be removed by path normalisation on the way.
    if (segment == ".") {
      target += "%2E";
    } else if (segment == "..") {
      target += "%2E%2E";
    } else {
      target += urls::encode(segment, kSegmentChars);
    }
  }
  if (target.empty()) target.push_back('/');  // not = "/": g++ 12 -O3 -Wrestrict false positive
  char separator = '?';
  for (const auto& [key, value] : query) {
    target += separator;
    target += urls::encode(key, kSegmentChars);
    target += '=';
    target += urls::encode(value, kQueryValueChars);
    separator = '&';
  }
  return target;
}

}  // namespace tempmail::detail
