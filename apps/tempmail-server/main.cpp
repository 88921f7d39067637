// tempmail-server: serves the Temp Mail user API and an SMTP listener on this
// machine, for tests and CI without a hosted account.
//
// Once the listeners are up it prints exactly one line of JSON on stdout,
//   {"http":"http://127.0.0.1:8025","smtp":"127.0.0.1:2525"}
// (with "smtps":"HOST:PORT" for --smtps, and "ca":"/path/to/ca.pem" when SMTP
// TLS uses a throwaway CA)
// then logs to stderr only. SIGINT/SIGTERM: stop accepting, finish messages in
// flight, close the database, exit 0. Exit 2: bad options; 1: could not start.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "tempmail/local/server.hpp"

namespace {

// NAME or NAME:TYPE; the server checks both (a DNS name; the type 'free').
tempmail::local::DomainConfig parse_domain(const std::string& text) {
  const auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  tempmail::local::DomainConfig d;
  const auto colon = text.find(':');
  d.name = lower(text.substr(0, colon));
  d.type =
      colon == std::string::npos ? tempmail::local::kFreeDomainType : lower(text.substr(colon + 1));
  if (d.name.empty() || d.type.empty())
    throw std::invalid_argument("--domain '" + text +
                                "' is not NAME or NAME:TYPE (e.g. example.com or "
                                "example.com:free)");
  return d;
}

// A whole number from `min` to `max`, or std::invalid_argument saying so.
// Rationale: CLI11's own checks quietly clamp an overflowing number to the
// type's maximum and describe ranges with the double's 309-digit limits.
long long parse_whole_number(const std::string& flag, const std::string& text, long long min,
                             long long max, const std::string& unit) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min ||
      value > max)
    throw std::invalid_argument(flag + " '" + text + "' is not a whole number of " + unit +
                                " from " + std::to_string(min) + " to " + std::to_string(max));
  return value;
}

// `text` as a JSON string.
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Waits for SIGINT or SIGTERM with sigwait: the signals are blocked in every
// thread (the server's threads inherit the mask), so none of them is
// interrupted and no handler runs in a signal context.
int wait_for_signal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

// The listeners allow thousands of connections (HTTP and SMTP, each capped per
// client address); the usual soft limit of 1024 descriptors would run out
// first, so take what the hard limit allows.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  raise_open_file_limit();
  CLI::App app{"tempmail-server: the Temp Mail user API and an SMTP listener on this machine"};
  std::string http_listen = "127.0.0.1:8025";
  std::string smtp_listen = "127.0.0.1:2525";
  std::vector<std::string> api_keys;
  std::vector<std::string> domains;
  std::optional<std::string> db_path;
  std::string ttl = "600";
  std::string quota = "50000";
  std::string tls_cert;
  std::string tls_key;
  std::string threads = "2";
  bool fsync = false;
  bool smtp_tls = false;
  std::string smtps_listen;
  std::string smtp_cert;
  std::string smtp_key;
  std::vector<std::string> smtp_users;
  bool smtp_require_auth = false;
  bool smtp_require_tls = false;
  app.add_option("--http", http_listen, "HOST:PORT for the API (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--smtp", smtp_listen, "HOST:PORT for SMTP (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--api-key", api_keys,
                 "accepted Bearer key, each its own account; repeatable (default on loopback: "
                 "local-dev-key)");
  app.add_option("--domain", domains,
                 "NAME[:TYPE] the server hands out (default example.com:free); repeatable");
  app.add_option("--db", db_path,
                 "SQLite file (WAL) that keeps everything across restarts (default: in memory)");
  app.add_option("--ttl", ttl, "mailbox lifetime in seconds (1 to 31622400, a year)")
      ->capture_default_str();
  app.add_option("--quota", quota, "API calls per key per month (0 to 1000000000000)")
      ->capture_default_str();
  auto* cert = app.add_option("--tls-cert", tls_cert, "PEM certificate chain: serve HTTPS")
                   ->check(CLI::ExistingFile);
  auto* key = app.add_option("--tls-key", tls_key, "PEM private key for --tls-cert")
                  ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  app.add_flag("--fsync", fsync,
               "with --db: flush each commit to disk before answering 250 (survives power "
               "loss; without it acknowledged mail survives kill -9 and crashes)");
  app.add_option("--threads", threads, "I/O threads (1 to 256)")->capture_default_str();
  app.add_flag("--smtp-tls", smtp_tls,
               "SMTP also offers STARTTLS (RFC 3207), with --smtp-cert or a throwaway CA");
  app.add_option("--smtps", smtps_listen,
                 "HOST:PORT of a second SMTP listener speaking implicit TLS (RFC 8314; port 0: "
                 "any free port)");
  auto* smtp_cert_opt =
      app.add_option("--smtp-cert", smtp_cert,
                     "PEM certificate chain for STARTTLS and --smtps (default: a throwaway CA's, "
                     "whose certificate the start-up line names as \"ca\")")
          ->check(CLI::ExistingFile);
  auto* smtp_key_opt = app.add_option("--smtp-key", smtp_key, "PEM private key for --smtp-cert")
                           ->check(CLI::ExistingFile);
  smtp_cert_opt->needs(smtp_key_opt);
  smtp_key_opt->needs(smtp_cert_opt);
  app.add_option("--smtp-user", smtp_users,
                 "USER:PASS: only these credentials pass SMTP AUTH, which becomes required; "
                 "repeatable (default: any user name and password pass)");
  app.add_flag("--smtp-require-auth", smtp_require_auth,
               "MAIL FROM before a successful AUTH gets 530 5.7.0");
  app.add_flag("--smtp-require-tls", smtp_require_tls,
               "MAIL FROM without TLS gets 530 5.7.0 (implies --smtp-tls)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  tempmail::local::ServerOptions options;
  try {
    if (db_path && db_path->empty())
      throw std::invalid_argument(
          "--db '' names no file: give the path of the SQLite file, or leave --db out to keep "
          "everything in memory");
    options.mailbox_ttl = std::chrono::seconds{
        parse_whole_number("--ttl", ttl, 1, tempmail::local::kMaxMailboxTtl.count(), "seconds")};
    options.monthly_quota =
        parse_whole_number("--quota", quota, 0, tempmail::local::kMaxMonthlyQuota, "API calls");
    options.threads = static_cast<std::size_t>(parse_whole_number(
        "--threads", threads, 1, static_cast<long long>(tempmail::local::kMaxThreads), "threads"));
    if (!domains.empty()) {
      options.domains.clear();
      for (const auto& d : domains) options.domains.push_back(parse_domain(d));
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "tempmail-server: " << e.what() << "\nRun with --help for more information.\n";
    return 2;
  }

  // Block the signals before the server starts its threads, so they inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  options.http_listen = http_listen;
  options.smtp_listen = smtp_listen;
  options.api_keys = api_keys;
  options.db_path = db_path.value_or("");
  options.tls_cert_file = tls_cert;
  options.tls_key_file = tls_key;
  options.fsync = fsync;
  options.smtp_tls = smtp_tls;
  options.smtps_listen = smtps_listen;
  options.smtp_cert_file = smtp_cert;
  options.smtp_key_file = smtp_key;
  options.smtp_users = smtp_users;
  options.smtp_require_auth = smtp_require_auth;
  options.smtp_require_tls = smtp_require_tls;
  std::optional<tempmail::local::Server> server;
  try {
    server.emplace(std::move(options));
  } catch (const std::invalid_argument& e) {
    std::cerr << "tempmail-server: " << e.what() << "\nRun with --help for more information.\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "tempmail-server: cannot start: " << e.what() << "\n";
    return 1;
  }

  std::string smtp_host = server->smtp_host();
  if (smtp_host.find(':') != std::string::npos) smtp_host = "[" + smtp_host + "]";
  // stderr first: once the JSON line is out, a reader may look at the log.
  if (api_keys.empty())
    std::cerr << "tempmail-server: no --api-key given: accepting the development key '"
              << tempmail::local::kLocalDevKey << "' (loopback only)\n";
  std::cerr << "tempmail-server: serving the API on " << server->base_url() << " and SMTP on "
            << smtp_host << ":" << server->smtp_port() << "\n";

  std::string line = "{\"http\":" + json_string(server->base_url()) + ",\"smtp\":" +
                     json_string(smtp_host + ":" + std::to_string(server->smtp_port()));
  if (server->smtps_port() != 0) {
    line += ",\"smtps\":" + json_string(smtp_host + ":" + std::to_string(server->smtps_port()));
    std::cerr << "tempmail-server: SMTP over implicit TLS on " << smtp_host << ":"
              << server->smtps_port() << "\n";
  }
  if (!server->smtp_ca_file().empty()) {
    line += ",\"ca\":" + json_string(server->smtp_ca_file().string());
    std::cerr << "tempmail-server: SMTP TLS certificate signed by a throwaway CA: trust "
              << server->smtp_ca_file().string() << "\n";
  }
  std::printf("%s}\n", line.c_str());
  std::fflush(stdout);

  int sig = wait_for_signal(signals);
  std::cerr << "tempmail-server: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
            << ": finishing messages in flight and closing the database\n";
  server->stop();
  std::cerr << "tempmail-server: stopped\n";
  return 0;
}
