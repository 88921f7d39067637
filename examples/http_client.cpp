#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <stdexcept>

namespace examples {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

HttpResponse request(http::verb method, const std::string& url, const std::string& body,
                     const std::string& content_type, std::chrono::milliseconds timeout) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http" || parsed->host().empty())
    throw std::runtime_error("http: \"" + url + "\" is not an http:// URL");
  const std::string host(parsed->encoded_host_address());  // IPv6 without brackets
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
  std::string target(parsed->encoded_target());
  if (target.empty()) target = "/";
  const std::string what = std::string(http::to_string(method)) + " " + url;

  try {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);  // one deadline for connect, write and read
    net::ip::tcp::resolver resolver(ioc);
    stream.connect(resolver.resolve(host, port));

    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, parsed->encoded_host_and_port());
    req.set(http::field::user_agent, "tempmail-cpp-examples");
    if (method == http::verb::post) {
      req.set(http::field::content_type, content_type);
      req.body() = body;
      req.prepare_payload();
    }
    http::write(stream, req);

    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ignored;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    return {.status = static_cast<int>(res.result_int()),
            .content_type = std::string(res[http::field::content_type]),
            .body = std::move(res.body())};
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("http: " + what + " failed: " + e.code().message() +
                             "; is the server running?");
  }
}

}  // namespace

HttpResponse http_get(const std::string& url, std::chrono::milliseconds timeout) {
  return request(http::verb::get, url, "", "", timeout);
}

HttpResponse http_post(const std::string& url, const std::string& body,
                       const std::string& content_type, std::chrono::milliseconds timeout) {
  return request(http::verb::post, url, body, content_type, timeout);
}

std::string form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += boost::urls::encode(name, boost::urls::unreserved_chars) + "=" +
           boost::urls::encode(value, boost::urls::unreserved_chars);
  }
  return out;
}

}  // namespace examples
