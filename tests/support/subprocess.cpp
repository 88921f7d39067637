#include "support/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <utility>

extern char** environ;

namespace tempmail::test {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  [[nodiscard]] int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("run_process: pipe2 failed: ") + std::strerror(errno));
  }
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

std::string tail(const std::string& text, std::size_t n) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

std::string ProcessResult::describe() const {
  std::string text;
  if (timed_out) {
    text = "timed out and was killed";
  } else if (signal != 0) {
    text = "killed by signal " + std::to_string(signal);
  } else {
    text = "exit " + std::to_string(exit_code);
  }
  text += "\n--- stderr ---\n" + tail(err, 4000) + "\n--- stdout ---\n" + tail(out, 4000);
  return text;
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) throw std::invalid_argument("run_process: argv is empty");
  ignore_sigpipe();

  Pipe in = make_pipe();
  Pipe out = make_pipe();
  Pipe err = make_pipe();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);  // its own group: a timeout kills its children too

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  for (const auto& extra : options.environment) env.push_back(const_cast<char*>(extra.c_str()));
  env.push_back(nullptr);

  pid_t pid = -1;
  const int spawn_error =
      ::posix_spawnp(&pid, argv[0].c_str(), &actions, &attributes, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawn_error != 0) {
    throw std::runtime_error("run_process: cannot start '" + argv[0] + "': " +
                             std::strerror(spawn_error) + " (is it installed and in PATH?)");
  }
  in.read.reset();
  out.write.reset();
  err.write.reset();
  if (options.input.empty()) in.write.reset();
  if (in.write.get() >= 0) ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);

  ProcessResult result;
  const auto deadline = Clock::now() + options.timeout;
  std::size_t written = 0;
  char buffer[65536];
  while (out.read.get() >= 0 || err.read.get() >= 0) {
    pollfd fds[3];
    nfds_t count = 0;
    const auto add = [&](const Fd& fd, short events) {
      if (fd.get() >= 0) fds[count++] = pollfd{fd.get(), events, 0};
    };
    add(out.read, POLLIN);
    add(err.read, POLLIN);
    add(in.write, POLLOUT);
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    const int ready = ::poll(fds, count, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in.write.get()) {
        const ssize_t n =
            ::write(in.write.get(), options.input.data() + written, options.input.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        if (n < 0 && errno != EAGAIN) written = options.input.size();  // child closed stdin
        if (written == options.input.size()) in.write.reset();
        continue;
      }
      Fd& source = fds[i].fd == out.read.get() ? out.read : err.read;
      std::string& sink = fds[i].fd == out.read.get() ? result.out : result.err;
      const ssize_t n = ::read(source.get(), buffer, sizeof buffer);
      if (n > 0) {
        sink.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        source.reset();  // EOF
      }
    }
  }
  in.write.reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::future<ProcessResult> start_process(std::vector<std::string> argv, ProcessOptions options) {
  return std::async(std::launch::async, [argv = std::move(argv), options = std::move(options)] {
    return run_process(argv, options);
  });
}

}  // namespace tempmail::test
