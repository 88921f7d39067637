// tempmail::local::Server: the store, the HTTP(S) API and the SMTP listener on
// `threads` I/O threads, each with its own io_context (local/io_pool.hpp).
#include "tempmail/local/server.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/system_error.hpp>
#include <charconv>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "local/http/auth.hpp"
#include "local/http/handler.hpp"
#include "local/http/http_server.hpp"
#include "local/log.hpp"
#include "local/io_pool.hpp"
#include "local/smtp/credentials.hpp"
#include "local/smtp/smtp_server.hpp"
#include "local/store/store.hpp"
#include "local/tls/server_context.hpp"
#include "local/tls/throwaway_ca.hpp"
#include "mime/parse.hpp"

namespace tempmail::local {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// How long stop() lets SMTP sessions in the middle of DATA finish.
constexpr auto kDrainTimeout = 10s;

tcp::endpoint parse_listen(const std::string& field, const std::string& text) {
  auto bad = [&] {
    return std::invalid_argument("ServerOptions::" + field + " '" + text +
                                 "' is not HOST:PORT with an IP address host and a port from 0 to "
                                 "65535 (e.g. 127.0.0.1:8025, [::1]:0; port 0 picks a free port)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw bad();
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535)
    throw bad();
  boost::system::error_code addr_ec;
  auto address = net::ip::make_address(host, addr_ec);
  if (addr_ec) throw bad();
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

std::string field_name(std::string_view field, std::size_t index, std::string_view member = {}) {
  std::string name = "ServerOptions::" + std::string(field) + "[" + std::to_string(index) + "]";
  if (!member.empty()) name += "." + std::string(member);
  return name;
}

// RFC 1035 section 2.3.1 (letters, digits, hyphens; RFC 1123 lets a label
// start with a digit), lower case because mail addresses are compared so.
bool is_domain_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0 || label > 63 || name[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label > 0);
    if (!ok) return false;
    ++label;
  }
  return true;
}

// Every option is checked before anything is created or bound, so a bad one
// leaves nothing behind.
void validate(const ServerOptions& o) {
  using std::invalid_argument;
  for (std::size_t i = 0; i < o.api_keys.size(); ++i) {
    const std::string& key = o.api_keys[i];  // never quoted in a message
    if (key.empty())
      throw invalid_argument(field_name("api_keys", i) + " is empty: give a non-empty key");
    if (std::any_of(key.begin(), key.end(), [](char c) { return c <= ' ' || c == 0x7f; }))
      throw invalid_argument(field_name("api_keys", i) +
                             " has a space, control or non-ASCII character: a key is sent in an "
                             "Authorization header, so use visible ASCII only");
    for (std::size_t j = 0; j < i; ++j)
      if (o.api_keys[j] == key)
        throw invalid_argument(field_name("api_keys", i) + " repeats " + field_name("api_keys", j) +
                               ": each key is its own account, give each key once");
  }
  if (o.domains.empty())
    throw invalid_argument("ServerOptions::domains is empty: give at least one domain");
  for (std::size_t i = 0; i < o.domains.size(); ++i) {
    const DomainConfig& d = o.domains[i];
    if (!is_domain_name(d.name))
      throw invalid_argument("domain '" + d.name + "' (" + field_name("domains", i, "name") +
                             ") is not a domain name: use lower-case dot-separated labels of "
                             "a-z, 0-9 and '-' (not at either end), e.g. example.com");
    for (std::size_t j = 0; j < i; ++j)
      if (o.domains[j].name == d.name)
        throw invalid_argument("domain '" + d.name + "' is given twice (" +
                               field_name("domains", j) + " and [" + std::to_string(i) +
                               "]): give each domain once");
    if (d.type != kFreeDomainType)
      throw invalid_argument("domain type '" + d.type + "' (" + field_name("domains", i, "type") +
                             ") is not one the Temp Mail API defines: the only type is 'free'");
  }
  if (o.mailbox_ttl < std::chrono::seconds{1} || o.mailbox_ttl > kMaxMailboxTtl)
    throw invalid_argument("ServerOptions::mailbox_ttl is " +
                           std::to_string(o.mailbox_ttl.count()) + " s: give 1 to " +
                           std::to_string(kMaxMailboxTtl.count()) + " seconds (a year)");
  if (o.monthly_quota < 0 || o.monthly_quota > kMaxMonthlyQuota)
    throw invalid_argument("ServerOptions::monthly_quota is " + std::to_string(o.monthly_quota) +
                           ": give 0 to " + std::to_string(kMaxMonthlyQuota) + " calls a month");
  if (o.threads < 1 || o.threads > kMaxThreads)
    throw invalid_argument("ServerOptions::threads is " + std::to_string(o.threads) +
                           ": give 1 to " + std::to_string(kMaxThreads) + " threads");
  if (o.max_message_bytes < 1 || o.max_message_bytes > kMaxMessageBytes)
    throw invalid_argument("ServerOptions::max_message_bytes is " +
                           std::to_string(o.max_message_bytes) + ": give 1 to " +
                           std::to_string(kMaxMessageBytes) + " bytes (1 GiB)");
  if (o.tls_cert_file.empty() != o.tls_key_file.empty())
    throw invalid_argument(
        "ServerOptions::tls_cert_file and tls_key_file go together: give both (PEM files) or "
        "neither");
  if (o.smtp_cert_file.empty() != o.smtp_key_file.empty())
    throw invalid_argument(
        "ServerOptions::smtp_cert_file and smtp_key_file go together: give both (PEM files), or "
        "neither for a throwaway CA");
  if (!o.smtp_cert_file.empty() && !o.smtp_tls && !o.smtp_require_tls && o.smtps_listen.empty())
    throw invalid_argument(
        "ServerOptions::smtp_cert_file is given but no SMTP TLS is on: set smtp_tls (STARTTLS) "
        "or smtps_listen (implicit TLS)");
  for (std::size_t i = 0; i < o.smtp_users.size(); ++i) {
    try {
      (void)detail::parse_smtp_user(o.smtp_users[i]);
    } catch (const std::invalid_argument& e) {
      throw invalid_argument(field_name("smtp_users", i) + ": " + e.what());
    }
  }
}

// The listen hosts a throwaway certificate must name besides the loopback ones.
std::vector<std::string> certificate_hosts(const std::vector<tcp::endpoint>& listeners) {
  std::vector<std::string> hosts{"localhost", "127.0.0.1", "::1"};
  for (const auto& ep : listeners) {
    const std::string h = ep.address().to_string();
    if (!ep.address().is_unspecified() && std::find(hosts.begin(), hosts.end(), h) == hosts.end())
      hosts.push_back(h);
  }
  return hosts;
}

// The host a client on this machine uses to reach `endpoint`.
std::string reachable_host(const tcp::endpoint& endpoint) {
  auto a = endpoint.address();
  if (a.is_unspecified()) return a.is_v6() ? "::1" : "127.0.0.1";
  return a.to_string();
}

std::string url_host(const tcp::endpoint& endpoint) {
  std::string host = reachable_host(endpoint);
  return endpoint.address().is_v6() ? "[" + host + "]" : host;
}

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions opts) : options(std::move(opts)) {
    validate(options);
    const tcp::endpoint http_at = parse_listen("http_listen", options.http_listen);
    const tcp::endpoint smtp_at = parse_listen("smtp_listen", options.smtp_listen);
    if (options.api_keys.empty()) {
      for (const auto& [field, ep] :
           {std::pair{"http_listen", http_at}, std::pair{"smtp_listen", smtp_at}})
        if (!ep.address().is_loopback())
          throw std::invalid_argument(
              std::string("ServerOptions::") + field + " " + ep.address().to_string() +
              " is not a loopback address and no API key is configured: pass an API key "
              "(ServerOptions::api_keys, or tempmail-server --api-key KEY) so that only its "
              "holders "
              "can use the server, or listen on 127.0.0.1");
      keys = {kLocalDevKey};
    } else {
      keys = options.api_keys;
    }
    pool.emplace(options.threads);
    if (!options.tls_cert_file.empty()) {
      tls.emplace(net::ssl::context::tls_server);
      tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1);
      boost::system::error_code ec;
      tls->use_certificate_chain_file(options.tls_cert_file.string(), ec);
      if (ec)
        throw std::runtime_error("cannot load the TLS certificate chain '" +
                                 options.tls_cert_file.string() + "': " + ec.message() +
                                 " (expected PEM, server certificate first)");
      tls->use_private_key_file(options.tls_key_file.string(), net::ssl::context::pem, ec);
      if (ec)
        throw std::runtime_error("cannot load the TLS private key '" +
                                 options.tls_key_file.string() + "': " + ec.message() +
                                 " (expected an unencrypted PEM key matching the certificate)");
    }

    setup_smtp_security(smtp_at);
    keyring.emplace(keys);
    store.emplace(detail::StoreOptions{.db_path = options.db_path,
                                       .domains = options.domains,
                                       .mailbox_ttl = options.mailbox_ttl,
                                       .monthly_quota = options.monthly_quota,
                                       .parse = &tempmail::detail::parse_message,
                                       .clock = {},
                                       .log = [](std::string_view line) { detail::log_line(line); },
                                       .fsync = options.fsync});
    context.emplace(detail::Context{
        .store = *store, .keys = *keyring, .scheme = tls ? "https" : "http", .base_url = {}});
    try {
      http.emplace(
          pool->front(), http_at, *context,
          detail::HttpLimits{.body_limit = options.max_message_bytes + (std::size_t{1} << 20)},
          tls ? &*tls : nullptr, pool->picker());
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot listen for HTTP on " + options.http_listen + ": " +
                               e.code().message() + "; pick another port (0 picks a free one)");
    }
    try {
      smtp.emplace(pool->front(), smtp_at, *store,
                   detail::SmtpLimits{.max_message_bytes = options.max_message_bytes},
                   pool->picker(), smtp_security(false));
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot listen for SMTP on " + options.smtp_listen + ": " +
                               e.code().message() + "; pick another port (0 picks a free one)");
    }
    if (smtps_at) try {
        smtps.emplace(pool->front(), *smtps_at, *store,
                      detail::SmtpLimits{.max_message_bytes = options.max_message_bytes},
                      pool->picker(), smtp_security(true));
        smtps_endpoint = smtps->local_endpoint();
      } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot listen for SMTP over TLS on " + options.smtps_listen +
                                 ": " + e.code().message() +
                                 "; pick another port (0 picks a free one)");
      }
    http_endpoint = http->local_endpoint();
    smtp_endpoint = smtp->local_endpoint();
    base_url = std::string(tls ? "https" : "http") + "://" + url_host(http_endpoint) + ":" +
               std::to_string(http_endpoint.port());
    context->base_url = base_url;

    http->start();
    smtp->start();
    if (smtps) smtps->start();
    pool->start([](std::string_view line) { detail::log_line(line); });
  }

  ~Impl() {
    stop();
    if (!smtp_ca_file.empty()) {
      std::error_code ignored;
      std::filesystem::remove(smtp_ca_file, ignored);
    }
  }

  // The SMTP listeners' TLS certificate (given, or a throwaway CA's) and
  // credentials; before the store, so that a bad certificate creates nothing.
  void setup_smtp_security(const tcp::endpoint& smtp_at) {
    if (!options.smtps_listen.empty())
      smtps_at = parse_listen("smtps_listen", options.smtps_listen);
    for (const auto& text : options.smtp_users) {
      auto [user, password] = detail::parse_smtp_user(text);
      credentials.add(std::move(user), std::move(password));
    }
    const bool starttls = options.smtp_tls || options.smtp_require_tls;
    if (!starttls && !smtps_at) return;
    if (!options.smtp_cert_file.empty()) {
      smtp_tls = detail::server_tls_context(options.smtp_cert_file, options.smtp_key_file,
                                            "ServerOptions::smtp_cert_file / smtp_key_file");
      return;
    }
    std::vector<tcp::endpoint> listeners{smtp_at};
    if (smtps_at) listeners.push_back(*smtps_at);
    const detail::ThrowawayTls made = detail::make_throwaway_tls(certificate_hosts(listeners));
    smtp_tls = detail::server_tls_context_from_pem(made.cert_pem, made.key_pem);
    smtp_ca_pem = made.ca_pem;
    smtp_ca_file = detail::write_private_temp_file(made.ca_pem, "tempmail-smtp-ca-");
  }

  detail::SmtpSecurity smtp_security(bool implicit) {
    return detail::SmtpSecurity{
        .tls = smtp_tls.get(),
        .implicit_tls = implicit,
        .protocol = detail::SmtpProtocolOptions{
            .authenticator = credentials.empty() ? nullptr : &credentials,
            .offer_starttls = !implicit && (options.smtp_tls || options.smtp_require_tls),
            .require_tls = options.smtp_require_tls,
            .require_auth = options.smtp_require_auth || !credentials.empty()}};
  }

  void stop() noexcept {
    std::lock_guard stop_lock(stop_mu);
    if (stopped) return;
    stopped = true;
    try {
      if (http) http->stop();
      if (smtp) smtp->stop();
      if (smtps) smtps->stop();
    } catch (const std::exception& e) {
      detail::log_line(std::string("stopping the listeners failed: ") + e.what());
    }
    // Sessions finish the message in flight (the store is still committing);
    // each io_context then runs out of work and its thread returns.
    if (pool)
      pool->finish(kDrainTimeout,
                   [] { detail::log_line("connections still open after 10 s: closing them"); });
    if (store) store->stop();
  }

  ServerOptions options;
  std::vector<std::string> keys;
  // Declared before the I/O pool so they outlive every handler it destroys.
  std::optional<net::ssl::context> tls;
  std::unique_ptr<net::ssl::context> smtp_tls;
  detail::SmtpCredentials credentials;
  std::optional<tcp::endpoint> smtps_at;
  std::string smtp_ca_pem;
  std::filesystem::path smtp_ca_file;
  std::optional<detail::Keyring> keyring;
  std::optional<detail::Store> store;
  std::optional<detail::Context> context;
  std::optional<detail::IoPool> pool;
  std::optional<detail::HttpServer> http;
  std::optional<detail::SmtpServer> smtp;
  std::optional<detail::SmtpServer> smtps;
  tcp::endpoint smtps_endpoint;
  tcp::endpoint http_endpoint;
  tcp::endpoint smtp_endpoint;
  std::string base_url;
  std::mutex stop_mu;
  bool stopped = false;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Server::~Server() { stop(); }

std::string Server::base_url() const { return impl_->base_url; }
std::string Server::smtp_host() const { return reachable_host(impl_->smtp_endpoint); }
std::uint16_t Server::smtp_port() const { return impl_->smtp_endpoint.port(); }
std::uint16_t Server::http_port() const { return impl_->http_endpoint.port(); }
std::string Server::api_key() const { return impl_->keys.front(); }
std::uint16_t Server::smtps_port() const { return impl_->smtps ? impl_->smtps_endpoint.port() : 0; }
std::string Server::smtp_ca_pem() const { return impl_->smtp_ca_pem; }
std::filesystem::path Server::smtp_ca_file() const { return impl_->smtp_ca_file; }

void Server::stop() noexcept {
  if (impl_) impl_->stop();
}

}  // namespace tempmail::local
