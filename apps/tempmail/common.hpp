// What every subcommand of the `tempmail` command line shares: exit codes, the
// global options, the client they make, and JSON output. stdout carries one
// JSON document (or, where documented, plain values or bytes); everything
// meant for people goes to stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tempmail/client.hpp"
#include "tempmail/message.hpp"

namespace tempmail::cli {

/// The process exit codes pipelines rely on (README.md, "The tempmail command").
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,       ///< anything not listed below
  kExitUsage = 2,       ///< bad arguments or options, no API key
  kExitAuth = 3,        ///< AuthError (401), PermissionError (403)
  kExitTimeout = 4,     ///< WaitTimeout
  kExitQuota = 5,       ///< QuotaExceededError (429)
  kExitNotFound = 6,    ///< NotFoundError (404)
  kExitUnexpected = 7,  ///< UnexpectedMessage (wait --none, --exactly)
};

/// The command was called wrongly (exit 2). `what()` says what and how to fix it.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The command ran but could not give what was asked, e.g. no code in the
/// message (exit 1). `what()` is shown as it is.
class CommandFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// `--base-url` and `--api-key`, completed from the environment after parsing.
struct GlobalOptions {
  std::string base_url;
  std::string api_key;
  /// Where base_url came from when it was given: "--base-url" or "TEMPMAIL_BASE_URL".
  std::string base_url_source;
  /// "--api-key" when the key was given on the command line.
  std::string api_key_source;
};

/// A client for the global options. Throws UsageError when there is no API
/// key or a given base URL or key is empty.
[[nodiscard]] Client make_client(const GlobalOptions& global);

/// A subcommand: CLI11 fills its arguments, `run` does the work once parsing
/// succeeded. `run` writes to stdout only after the work succeeded.
struct Command {
  CLI::App* app = nullptr;
  std::function<void()> run;
};
using Commands = std::vector<Command>;

void add_mailbox_commands(CLI::App& app, const GlobalOptions& global, Commands& commands);
void add_message_commands(CLI::App& app, const GlobalOptions& global, Commands& commands);
void add_wait_command(CLI::App& app, const GlobalOptions& global, Commands& commands);
void add_extract_command(CLI::App& app, Commands& commands);

/// A CLI11 check that the value is not empty (an unset shell variable in
/// `tempmail delete "$BOX"` must not reach the API as an empty address).
[[nodiscard]] CLI::Validator not_empty();

/// Writes `text` to stdout and flushes; CommandFailed when it could not be
/// written (stdout closed or full).
void write_stdout(std::string_view text);
/// Writes `doc` and a newline to stdout and flushes (as write_stdout).
void print_json(const boost::json::value& doc);
/// The API's JSON object of a message (`tempmail::to_json`).
[[nodiscard]] boost::json::value message_json(const Message& message);

}  // namespace tempmail::cli
