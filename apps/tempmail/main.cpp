// tempmail: disposable mailboxes from the command line, for CI pipelines and
// people. Output is one JSON document on stdout (or a plain value where a
// subcommand says so); messages for people go to stderr. Exit codes: 0 ok,
// 1 error, 2 usage, 3 auth/permission, 4 wait timed out, 5 quota, 6 not found.
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "common.hpp"
#include "tempmail/wait.hpp"

namespace {

using namespace tempmail::cli;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string{} : std::string(value);
}

// Every value the API key could have: from the environment and anywhere on the
// command line, so no message can show it, even one about a misplaced argument.
std::vector<std::string> secrets(int argc, char** argv) {
  std::vector<std::string> out{env("TEMPMAIL_API_KEY")};
  constexpr std::string_view kOption = "--api-key";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == kOption && i + 1 < argc) out.emplace_back(argv[i + 1]);
    if (arg.starts_with(kOption) && arg.size() > kOption.size() && arg[kOption.size()] == '=')
      out.emplace_back(arg.substr(kOption.size() + 1));
  }
  return out;
}

int fail(int code, const std::string& text, const std::vector<std::string>& hidden) {
  std::cerr << "tempmail: " << hide_secrets(text, hidden) << "\n";
  return code;
}

std::string not_found_hint(std::string_view endpoint) {
  if (endpoint.find("/api/messages/{id}") != std::string_view::npos)
    return "'tempmail messages EMAIL' lists a mailbox's messages and their ids.";
  return "A mailbox exists only for the API key that created it, until it is deleted or expires; "
         "'tempmail create' makes a new one.";
}

// Runs the command and turns what it throws into a message on stderr and an exit code.
int run_reporting_errors(const Command& command, const GlobalOptions& global,
                         const std::vector<std::string>& hidden) {
  const std::string name = command.app->get_name();
  try {
    command.run();
    return kExitOk;
  } catch (const UsageError& e) {
    return fail(kExitUsage, name + ": " + e.what(), hidden);
  } catch (const CommandFailed& e) {
    return fail(kExitError, name + ": " + e.what(), hidden);
  } catch (const tempmail::WaitTimeout& e) {
    return fail(kExitTimeout, name + ": " + e.what(), hidden);
  } catch (const tempmail::QuotaExceededError& e) {
    return fail(kExitQuota,
                name + ": " + e.what() +
                    "\nThe quota is per API key and month; another key or a local "
                    "tempmail-server is not affected.",
                hidden);
  } catch (const tempmail::AuthError& e) {
    return fail(kExitAuth,
                name + ": " + e.what() + "\nSet TEMPMAIL_API_KEY or pass --api-key with a key " +
                    global.base_url + " accepts.",
                hidden);
  } catch (const tempmail::PermissionError& e) {
    return fail(kExitAuth,
                name + ": " + e.what() + "\n'tempmail domains' shows what the plan allows.",
                hidden);
  } catch (const tempmail::NotFoundError& e) {
    return fail(kExitNotFound, name + ": " + e.what() + "\n" + not_found_hint(e.endpoint()),
                hidden);
  } catch (const tempmail::TransportError& e) {
    return fail(kExitError,
                name + ": " + e.what() + "\nThe API is at " + global.base_url +
                    " (--base-url or TEMPMAIL_BASE_URL).",
                hidden);
  } catch (const tempmail::Error& e) {
    return fail(kExitError, name + ": " + e.what(), hidden);
  } catch (const std::invalid_argument& e) {
    // ClientOptions that cannot be used, e.g. a base URL without http:// or https://.
    return fail(kExitUsage, name + ": " + e.what(), hidden);
  } catch (const std::exception& e) {
    return fail(kExitError, name + ": " + e.what(), hidden);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tempmail: disposable mailboxes for email-verification tests, on the Temp Mail API or a\n"
      "local tempmail-server. Prints JSON on stdout; messages on stderr.",
      "tempmail"};
  app.set_version_flag("--version", "tempmail " TEMPMAIL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand too

  GlobalOptions global;
  app.add_option("--base-url", global.base_url,
                 "the API, http(s)://HOST[:PORT] (default: $TEMPMAIL_BASE_URL, else " +
                     std::string(tempmail::kDefaultBaseUrl) + ")")
      ->type_name("URL");
  app.add_option("--api-key", global.api_key,
                 "the API key (default: $TEMPMAIL_API_KEY; prefer the variable, as arguments "
                 "are visible to other users)")
      ->type_name("KEY");
  app.footer(
      "Exit codes: 0 ok, 1 error, 2 usage, 3 authentication or permission, 4 wait timed out,\n"
      "5 quota exhausted, 6 not found. Run 'tempmail SUBCOMMAND --help' for each one.");

  Commands commands;
  add_mailbox_commands(app, global, commands);
  add_message_commands(app, global, commands);
  add_wait_command(app, global, commands);
  add_extract_command(app, commands);

  const std::vector<std::string> hidden = secrets(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(kExitUsage, std::string(e.what()) + "\nRun 'tempmail --help'.", hidden);
  }

  if (global.base_url.empty()) global.base_url = env("TEMPMAIL_BASE_URL");
  if (global.base_url.empty()) global.base_url = std::string(tempmail::kDefaultBaseUrl);
  if (global.api_key.empty()) global.api_key = env("TEMPMAIL_API_KEY");

  for (const Command& command : commands)
    if (command.app->parsed()) return run_reporting_errors(command, global, hidden);
  return fail(kExitUsage, "no subcommand given. Run 'tempmail --help'.", hidden);
}
