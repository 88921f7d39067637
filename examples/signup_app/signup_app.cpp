// The HTTP side of the signup app follows the shape of Beast's
// advanced_server example: a listener that accepts, a session per connection
// with a deadline on every read, and a request handler that never touches a
// socket (`App::handle`).
#include "signup_app.hpp"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <cctype>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "accounts.hpp"
#include "secrets.hpp"
#include "smtp_send.hpp"
#include "verification_email.hpp"

namespace signup {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using Fields = std::map<std::string, std::string>;

// --- Small helpers --------------------------------------------------------------

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1));
}

// An address we are willing to put in an SMTP envelope and a To: header: a
// conservative subset of RFC 5321 (no quoted local parts, no CR/LF, so no
// header injection).
bool valid_email(std::string_view email) {
  const auto at = email.find('@');
  if (email.size() > 254 || at == 0 || at == std::string_view::npos ||
      email.find('@', at + 1) != std::string_view::npos || at + 1 == email.size())
    return false;
  const std::string_view local_chars = ".!#$%&'*+/=?^_`{|}~-";
  for (char c : email.substr(0, at))
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        local_chars.find(c) == std::string_view::npos)
      return false;
  for (char c : email.substr(at + 1))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  return true;
}

// HOST:PORT, HOST may be [IPv6].
tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("listen address \"" + listen + "\" is not HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec)
    throw std::invalid_argument("listen address \"" + listen +
                                "\": the host must be an IP address such as 127.0.0.1");
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535)
    throw std::invalid_argument("listen address \"" + listen + "\": the port must be 0-65535");
  return {address, static_cast<std::uint16_t>(port)};
}

Response json_response(const Request& req, http::status status, const json::object& body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = json::serialize(body) + "\n";
  res.prepare_payload();
  return res;
}

Response json_error(const Request& req, http::status status, std::string message) {
  return json_response(req, status, {{"error", std::move(message)}});
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

Response html_page(const Request& req, http::status status, std::string_view title,
                   const std::string& body_html) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.keep_alive(req.keep_alive());
  res.body() = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
               "</title></head>\n<body><h1>" + html_escape(title) + "</h1>\n" + body_html +
               "\n</body></html>\n";
  res.prepare_payload();
  return res;
}

// The fields of a POST body: a form (application/x-www-form-urlencoded) or a
// JSON object of strings. nullopt when the body is neither.
std::optional<Fields> read_fields(const Request& req) {
  const std::string type = lower(std::string(req[http::field::content_type]));
  Fields fields;
  if (type.starts_with("application/json")) {
    boost::system::error_code ec;
    json::value v = json::parse(req.body(), ec);
    if (ec || !v.is_object()) return std::nullopt;
    for (const auto& [key, value] : v.as_object())
      if (value.is_string()) fields[std::string(key)] = std::string(value.as_string());
    return fields;
  }
  if (type.empty() || type.starts_with("application/x-www-form-urlencoded")) {
    if (!boost::urls::parse_query(req.body())) return std::nullopt;
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;  // how browsers encode spaces in forms
    for (const auto& param : boost::urls::params_view(req.body(), opts))
      fields.emplace(param.key, param.value);
    return fields;
  }
  return std::nullopt;
}

constexpr const char* kFieldsHelp =
    "send the fields as a form (application/x-www-form-urlencoded) or as a JSON object "
    "(application/json)";

// --- The application ------------------------------------------------------------

// Everything the app is (SignupApp::Impl derives from it: Session needs a name).
struct App {
  explicit App(SignupAppOptions o) : options(std::move(o)), acceptor(ioc) {}

  void log(std::string_view line) const {
    if (options.log) options.log(line);
  }

  Response handle(const Request& req);
  Response home(const Request& req);
  Response sign_up(const Request& req);
  Response verify_link(const Request& req, const boost::urls::params_view& params);
  Response verify_code(const Request& req);
  Response account(const Request& req, const boost::urls::params_view& params);
  void send_verification_email(const std::string& email, const Challenge& challenge);

  void accept();

  SignupAppOptions options;
  AccountStore accounts;
  std::string url;
  std::string public_url;
  std::uint16_t port = 0;
  bool started = false;
  net::io_context ioc;  // before `acceptor`, so the acceptor is destroyed first
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
};

// One connection: read a request, answer it, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, App& app) : stream_(std::move(socket)), app_(app) {}

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return close();
    if (ec) return;  // timed out, reset or malformed: drop the connection
    response_ = app_.handle(parser_->get());
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    if (ec) return;
    if (!response_.keep_alive()) return close();
    read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
  App& app_;
};

void App::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;  // stopping
    if (!ec) std::make_shared<Session>(std::move(socket), *this)->run();
    accept();
  });
}

Response App::handle(const Request& req) {
  auto target = boost::urls::parse_origin_form(req.target());
  if (!target)
    return json_error(req, http::status::bad_request, "the request target is not a valid path");
  const std::string path = target->path();
  const auto params = target->params();

  struct Route {
    const char* path;
    http::verb method;
  };
  static constexpr Route kRoutes[] = {{"/", http::verb::get},
                                      {"/signup", http::verb::post},
                                      {"/verify", http::verb::get},
                                      {"/verify-code", http::verb::post},
                                      {"/account", http::verb::get}};
  Response res;
  const auto route = std::find_if(std::begin(kRoutes), std::end(kRoutes),
                                  [&](const Route& r) { return path == r.path; });
  if (route == std::end(kRoutes)) {
    res = json_error(req, http::status::not_found, "no page at " + path);
  } else if (req.method() != route->method) {
    res = json_error(req, http::status::method_not_allowed,
                     std::string(path) + " takes " + std::string(http::to_string(route->method)));
    res.set(http::field::allow, http::to_string(route->method));
  } else if (path == "/") {
    res = home(req);
  } else if (path == "/signup") {
    res = sign_up(req);
  } else if (path == "/verify") {
    res = verify_link(req, params);
  } else if (path == "/verify-code") {
    res = verify_code(req);
  } else {
    res = account(req, params);
  }
  // The path only: the query of /verify carries a live token.
  log(std::string(req.method_string()) + " " + path + " " + std::to_string(res.result_int()));
  return res;
}

Response App::home(const Request& req) {
  return html_page(req, http::status::ok, "Sign up for My App",
                   "<form method=\"post\" action=\"/signup\">"
                   "<label>Email <input type=\"email\" name=\"email\" required></label> "
                   "<button>Sign up</button></form>");
}

Response App::sign_up(const Request& req) {
  auto fields = read_fields(req);
  if (!fields)
    return json_error(req, http::status::bad_request, std::string("POST /signup: ") + kFieldsHelp);
  const std::string email = lower(trim((*fields)["email"]));
  if (!valid_email(email))
    return json_error(req, http::status::bad_request,
                      "POST /signup needs \"email\" with an email address, got \"" + email + "\"");

  auto [result, challenge] = accounts.sign_up(email);
  if (result == AccountStore::SignupResult::kAlreadyVerified)
    return json_error(req, http::status::conflict, email + " is already verified; sign in instead");
  try {
    send_verification_email(email, challenge);
  } catch (const std::exception& e) {
    log(std::string("could not send the verification email: ") + e.what());
    return json_error(req, http::status::bad_gateway,
                      std::string("could not send the verification email (") + e.what() +
                          "); check the app's SMTP setting and sign up again");
  }
  return json_response(req, http::status::accepted,
                       {{"email", email},
                        {"verified", false},
                        {"resent", result == AccountStore::SignupResult::kResent},
                        {"message", "We sent a verification link and code to " + email}});
}

void App::send_verification_email(const std::string& email, const Challenge& challenge) {
  std::string reference;
  do reference = random_digits(8);
  while (reference.front() == '0');
  const std::string message = compose({.from_name = options.from_name,
                                       .from_address = options.from_address,
                                       .to = email,
                                       .public_url = public_url,
                                       .token = challenge.token,
                                       .code = challenge.code,
                                       .reference = reference});
  examples::send_mail(options.smtp_host, options.smtp_port, options.from_address, {email}, message);
  log("sent \"" + std::string(kVerificationSubject) + "\" to " + email + " (reference #" +
      reference + ")");
}

Response App::verify_link(const Request& req, const boost::urls::params_view& params) {
  const auto it = params.find("token");
  if (it == params.end() || (*it).value.empty())
    return html_page(req, http::status::bad_request, "Missing token",
                     "<p>Open the link from the verification email.</p>");
  if (auto email = accounts.verify_token((*it).value))
    return html_page(req, http::status::ok, "Email verified",
                     "<p>Thanks! " + html_escape(*email) + " is verified.</p>");
  return html_page(req, http::status::bad_request, "Link expired",
                   "<p>This verification link is invalid or has expired. "
                   "<a href=\"/\">Sign up again</a> to get a new one.</p>");
}

Response App::verify_code(const Request& req) {
  auto fields = read_fields(req);
  if (!fields)
    return json_error(req, http::status::bad_request,
                      std::string("POST /verify-code: ") + kFieldsHelp);
  const std::string email = lower(trim((*fields)["email"]));
  std::string code = (*fields)["code"];
  std::erase_if(code, [](char c) { return c == ' ' || c == '-'; });  // "123 456", "123-456"
  if (email.empty() || code.empty())
    return json_error(req, http::status::bad_request,
                      "POST /verify-code needs \"email\" and \"code\"");

  using R = AccountStore::CodeResult;
  switch (accounts.verify_code(email, code)) {
    case R::kVerified:
      return json_response(req, http::status::ok, {{"email", email}, {"verified", true}});
    case R::kWrongCode:
      return json_response(req, http::status::bad_request,
                           {{"email", email},
                            {"verified", false},
                            {"error", "wrong code; check the latest email and try again"}});
    case R::kExpired:
      return json_error(req, http::status::gone,
                        "the code has expired; sign up again for a new one");
    case R::kTooManyAttempts:
      return json_error(req, http::status::too_many_requests,
                        "too many wrong codes; sign up again for a new one");
    case R::kNoAccount:
      return json_error(req, http::status::not_found,
                        "no account for " + email + "; sign up first");
    case R::kAlreadyVerified:
      return json_error(req, http::status::conflict, email + " is already verified");
  }
  return json_error(req, http::status::internal_server_error, "unexpected result");
}

Response App::account(const Request& req, const boost::urls::params_view& params) {
  const auto it = params.find("email");
  if (it == params.end())
    return json_error(req, http::status::bad_request, "GET /account needs ?email=ADDRESS");
  const std::string email = lower(trim((*it).value));
  const auto found = accounts.find(email);
  if (!found) return json_error(req, http::status::not_found, "no account for " + email);
  json::object body{{"email", found->email}, {"verified", found->verified}};
  if (found->verified)
    body["verified_by"] = to_string(found->verified_by);
  else
    body["verified_by"] = nullptr;
  return json_response(req, http::status::ok, body);
}

}  // namespace

// --- SignupApp ------------------------------------------------------------------

struct SignupApp::Impl : App {
  using App::App;
};

SignupApp::SignupApp(SignupAppOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  if (impl_->options.threads < 1)
    throw std::invalid_argument("SignupAppOptions::threads must be at least 1");
}

SignupApp::~SignupApp() { stop(); }

void SignupApp::start() {
  App& app = *impl_;
  if (app.started) throw std::logic_error("SignupApp::start() called twice");
  const tcp::endpoint endpoint = parse_listen(app.options.listen);
  boost::system::error_code ec;
  app.acceptor.open(endpoint.protocol(), ec);
  if (!ec) app.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) app.acceptor.bind(endpoint, ec);
  if (!ec) app.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("signup app: cannot listen on " + app.options.listen + ": " +
                             ec.message() + "; choose another address or port 0");
  app.started = true;
  app.port = app.acceptor.local_endpoint().port();
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  app.url = "http://" + host + ":" + std::to_string(app.port);
  app.public_url = app.options.public_url.empty() ? app.url : app.options.public_url;
  while (!app.public_url.empty() && app.public_url.back() == '/') app.public_url.pop_back();

  app.accept();
  for (int i = 0; i < app.options.threads; ++i) app.threads.emplace_back([&app] { app.ioc.run(); });
}

void SignupApp::stop() noexcept {
  if (!impl_ || impl_->threads.empty()) return;
  App& app = *impl_;
  app.ioc.stop();
  for (auto& t : app.threads) t.join();
  app.threads.clear();
  // No thread runs handlers now, so the acceptor may be closed here; open
  // connections are closed when the io_context is destroyed.
  boost::system::error_code ignored;
  app.acceptor.close(ignored);
}

std::string SignupApp::url() const { return impl_->url; }
std::string SignupApp::public_url() const { return impl_->public_url; }
std::uint16_t SignupApp::port() const { return impl_->port; }

}  // namespace signup
