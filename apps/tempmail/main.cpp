// tempmail: disposable mailboxes from the command line, for CI pipelines and
// people. Output is one JSON document on stdout (or a plain value where a
// subcommand says so); messages for people go to stderr. Exit codes: 0 ok,
// 1 error, 2 usage, 3 auth/permission, 4 wait timed out, 5 quota, 6 not found.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common.hpp"
#include "tempmail/wait.hpp"

namespace {

using namespace tempmail::cli;

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// What a parse error may quote of the arguments: argv with every argument that
// is an API key (the value of --api-key, or a known key given as a stray
// argument) replaced as a whole by a placeholder. The key never reaches a
// message, and a short key cannot damage the text around it.
std::vector<std::string> arguments_without_keys(int argc, char** argv) {
  constexpr std::string_view kOption = "--api-key";
  constexpr std::string_view kPlaceholder = "[REDACTED]";
  std::vector<std::string> out(argv, argv + argc);
  std::vector<std::string> keys;
  if (auto key = env("TEMPMAIL_API_KEY"); key && !key->empty()) keys.push_back(*key);
  for (std::size_t i = 1; i < out.size(); ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == kOption && i + 1 < out.size()) {
      keys.emplace_back(argv[i + 1]);
      out[++i] = kPlaceholder;
    } else if (arg.starts_with(kOption) && arg.size() > kOption.size() &&
               arg[kOption.size()] == '=') {
      keys.emplace_back(arg.substr(kOption.size() + 1));
      out[i] = std::string(kOption) + "=" + std::string(kPlaceholder);
    }
  }
  for (std::size_t i = 1; i < out.size(); ++i)
    if (!out[i].empty() && std::find(keys.begin(), keys.end(), out[i]) != keys.end())
      out[i] = kPlaceholder;
  return out;
}

int fail(int code, const std::string& text) {
  std::cerr << "tempmail: " << text << "\n";
  return code;
}

std::string not_found_hint(std::string_view endpoint) {
  if (endpoint.find("/api/messages/{id}") != std::string_view::npos)
    return "'tempmail messages EMAIL' lists a mailbox's messages and their ids.";
  return "A mailbox exists only for the API key that created it, until it is deleted or expires; "
         "'tempmail create' makes a new one.";
}

// Runs the command and turns what it throws into a message on stderr and an exit code.
int run_reporting_errors(const Command& command, const GlobalOptions& global) {
  const std::string name = command.app->get_name();
  try {
    command.run();
    return kExitOk;
  } catch (const UsageError& e) {
    return fail(kExitUsage, name + ": " + e.what());
  } catch (const CommandFailed& e) {
    return fail(kExitError, name + ": " + e.what());
  } catch (const tempmail::WaitTimeout& e) {
    return fail(kExitTimeout, name + ": " + e.what());
  } catch (const tempmail::UnexpectedMessage& e) {
    return fail(kExitUnexpected, name + ": " + e.what());
  } catch (const tempmail::QuotaExceededError& e) {
    return fail(kExitQuota, name + ": " + e.what() +
                                "\nThe quota is per API key and month; another key or a local "
                                "tempmail-server is not affected.");
  } catch (const tempmail::AuthError& e) {
    return fail(kExitAuth, name + ": " + e.what() +
                               "\nSet TEMPMAIL_API_KEY or pass --api-key with a key " +
                               global.base_url + " accepts.");
  } catch (const tempmail::PermissionError& e) {
    return fail(kExitAuth,
                name + ": " + e.what() + "\n'tempmail domains' shows what the plan allows.");
  } catch (const tempmail::NotFoundError& e) {
    return fail(kExitNotFound, name + ": " + e.what() + "\n" + not_found_hint(e.endpoint()));
  } catch (const tempmail::TransportError& e) {
    return fail(kExitError, name + ": " + e.what() + "\nThe API is at " + global.base_url +
                                " (--base-url or TEMPMAIL_BASE_URL).");
  } catch (const tempmail::Error& e) {
    return fail(kExitError, name + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    // ClientOptions that cannot be used, e.g. a base URL without http:// or https://.
    return fail(kExitUsage, name + ": " + e.what());
  } catch (const std::exception& e) {
    return fail(kExitError, name + ": " + e.what());
  }
}

// The whole command line: global options and every subcommand, writing into
// `global` and `commands`.
std::unique_ptr<CLI::App> make_app(GlobalOptions& global, Commands& commands) {
  auto app = std::make_unique<CLI::App>(
      "tempmail: disposable mailboxes for email-verification tests, on the Temp Mail API or a\n"
      "local tempmail-server. Prints JSON on stdout; messages on stderr.",
      "tempmail");
  app->set_version_flag("--version", "tempmail " TEMPMAIL_VERSION);
  app->require_subcommand(1);
  app->fallthrough();  // global options may follow the subcommand too
  app->add_option("--base-url", global.base_url,
                  "the API, http(s)://HOST[:PORT] (default: $TEMPMAIL_BASE_URL, else " +
                      std::string(tempmail::kDefaultBaseUrl) + ")")
      ->type_name("URL");
  app->add_option("--api-key", global.api_key,
                  "the API key (default: $TEMPMAIL_API_KEY; prefer the variable, as arguments "
                  "are visible to other users)")
      ->type_name("KEY");
  app->footer(
      "Exit codes: 0 ok, 1 error, 2 usage, 3 authentication or permission, 4 wait timed out,\n"
      "5 quota exhausted, 6 not found. Run 'tempmail SUBCOMMAND --help' for each one.");
  add_mailbox_commands(*app, global, commands);
  add_message_commands(*app, global, commands);
  add_wait_command(*app, global, commands);
  add_extract_command(*app, commands);
  return app;
}

// "unknown subcommand 'foo'" when the first argument that is not a global
// option is not a subcommand; CLI11 would say "A subcommand is required".
std::optional<std::string> unknown_subcommand(const CLI::App& app,
                                              const std::vector<std::string>& args) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--base-url" || arg == "--api-key") {
      ++i;  // its value
      continue;
    }
    if (arg.starts_with("-")) {
      if (arg == "--") break;
      continue;  // --help, --version, --base-url=URL, or CLI11's own error
    }
    if (std::find(names.begin(), names.end(), arg) != names.end()) return std::nullopt;
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
    return "unknown subcommand '" + arg + "'; the subcommands are " + list +
           ". Run 'tempmail --help'.";
  }
  return std::nullopt;
}

// The parse error to show: CLI11's words for the arguments with the keys
// replaced (arguments_without_keys), so they can quote no key.
std::string parse_error_text(const std::vector<std::string>& shown, const CLI::ParseError& real) {
  GlobalOptions global;
  Commands commands;
  const std::unique_ptr<CLI::App> app = make_app(global, commands);
  if (auto unknown = unknown_subcommand(*app, shown)) return *unknown;
  std::vector<const char*> argv;
  for (const auto& arg : shown) argv.push_back(arg.c_str());
  try {
    app->parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return std::string(e.what()) + "\nRun 'tempmail --help'.";
  }
  return "the arguments could not be read (" + real.get_name() + "). Run 'tempmail --help'.";
}

}  // namespace

int main(int argc, char** argv) {
  GlobalOptions global;
  Commands commands;
  std::unique_ptr<CLI::App> app = make_app(global, commands);
  try {
    app->parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app->exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app->exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(kExitUsage, parse_error_text(arguments_without_keys(argc, argv), e));
  }

  // An option or variable that is set but empty is a mistake (an unset shell
  // variable in `--base-url "$URL"`), never a reason to use the hosted service.
  if (app->count("--base-url") > 0) {
    global.base_url_source = "--base-url";
  } else if (auto url = env("TEMPMAIL_BASE_URL")) {
    global.base_url = *url;
    global.base_url_source = "TEMPMAIL_BASE_URL";
  } else {
    global.base_url = std::string(tempmail::kDefaultBaseUrl);
  }
  if (app->count("--api-key") > 0) {
    global.api_key_source = "--api-key";
  } else if (auto key = env("TEMPMAIL_API_KEY")) {
    global.api_key = *key;
  }

  for (const Command& command : commands)
    if (command.app->parsed()) return run_reporting_errors(command, global);
  return fail(kExitUsage, "no subcommand given. Run 'tempmail --help'.");
}
