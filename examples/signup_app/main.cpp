// signup-app: "My App", the signup web application of the examples, as a
// standalone process.
//
//   signup-app --listen 127.0.0.1:0 --smtp 127.0.0.1:2525 [--public-url URL]
//
// Once it listens it prints one line of JSON on stdout, {"url":"http://127.0.0.1:PORT"},
// logs requests and sent email to stderr, and serves until SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>

#include "signup_app.hpp"

int main(int argc, char** argv) {
  CLI::App cli{
      "My App: a web application with an email-verification signup (tempmail-cpp example)"};
  std::string listen = "127.0.0.1:8080";
  std::string smtp = "127.0.0.1:2525";
  std::string public_url;
  cli.add_option("--listen", listen, "HOST:PORT to serve HTTP on (port 0: any free port)")
      ->capture_default_str();
  cli.add_option("--smtp", smtp, "HOST:PORT of the SMTP server the app sends its email to")
      ->capture_default_str();
  cli.add_option("--public-url", public_url,
                 "base URL of the links in the email (default: the address it listens on)");
  CLI11_PARSE(cli, argc, argv);

  const auto colon = smtp.rfind(':');
  int smtp_port = -1;
  try {
    if (colon != std::string::npos) smtp_port = std::stoi(smtp.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (colon == std::string::npos || colon == 0 || smtp_port <= 0 || smtp_port > 65535) {
    std::cerr << "signup-app: --smtp \"" << smtp << "\" is not HOST:PORT (e.g. 127.0.0.1:2525)\n";
    return 2;
  }

  // Block the signals before any thread starts, so only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::mutex log_mutex;
  try {
    signup::SignupApp app({.listen = listen,
                           .smtp_host = smtp.substr(0, colon),
                           .smtp_port = static_cast<std::uint16_t>(smtp_port),
                           .public_url = public_url,
                           .log = [&log_mutex](std::string_view line) {
                             std::lock_guard lock(log_mutex);
                             std::cerr << "signup-app: " << line << std::endl;
                           }});
    app.start();
    std::cerr << "signup-app: listening on " << app.url() << ", links point to " << app.public_url()
              << ", email goes to " << smtp << std::endl;
    std::printf("{\"url\":\"%s\"}\n", app.url().c_str());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&signals, &sig);
    std::cerr << "signup-app: stopping (signal " << sig << ")" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "signup-app: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
