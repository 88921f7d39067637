// Runs a program for a test (swaks, python3, curl...), captures its stdout and
// stderr, and kills it (and its children) when it overruns a timeout.
//
//   auto result = tempmail::test::run_process({"swaks", "--server", "127.0.0.1:2525"});
//   ASSERT_TRUE(result.ok()) << result.describe();
#pragma once

#include <chrono>
#include <future>
#include <string>
#include <vector>

namespace tempmail::test {

struct ProcessOptions {
  /// After this the process group gets SIGKILL and `timed_out` is set.
  std::chrono::milliseconds timeout{60'000};
  /// Written to the child's stdin, which is then closed (empty: closed at once).
  std::string input{};
  /// Extra "NAME=value" entries on top of this process's environment.
  std::vector<std::string> environment{};
};

struct ProcessResult {
  int exit_code = -1;  ///< the exit status when it exited normally, else -1
  int signal = 0;      ///< the signal that ended it, else 0
  bool timed_out = false;
  std::string out;  ///< everything it wrote to stdout
  std::string err;  ///< everything it wrote to stderr

  /// Exited by itself with status 0.
  [[nodiscard]] bool ok() const { return !timed_out && signal == 0 && exit_code == 0; }
  /// "exit 1" / "killed by signal 9 after the 5000 ms timeout", then stderr and
  /// stdout (each cut to its last 4000 characters): for assertion messages.
  [[nodiscard]] std::string describe() const;
};

/// Runs `argv` (argv[0] is looked up in PATH) to completion or timeout.
/// Throws std::runtime_error naming the program when it cannot be started
/// (for example, not installed). The child runs in its own process group,
/// which is killed as a whole on timeout. SIGPIPE is ignored process-wide from
/// the first call on (so a child that exits early cannot kill the test).
/// Thread-safe: several processes may run at once from different threads.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

/// run_process() on its own thread, so the test can act while it runs.
std::future<ProcessResult> start_process(std::vector<std::string> argv,
                                         ProcessOptions options = {});

}  // namespace tempmail::test
