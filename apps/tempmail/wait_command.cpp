// wait: poll a mailbox until messages matching --subject/--from/--body arrive,
// then print them (JSON), or just their code, link or id for a shell variable;
// or (--none, --exactly) check that no more than that many arrive.
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stop_token>
#include <thread>

#include "common.hpp"
#include "duration.hpp"
#include "extraction_json.hpp"
#include "tempmail/extract.hpp"
#include "tempmail/mailbox.hpp"

namespace tempmail::cli {
namespace {

namespace json = boost::json;

struct WaitArgs {
  std::string email;
  std::optional<std::string> subject;
  std::optional<std::string> from;
  std::optional<std::string> body;
  std::string timeout = "60s";
  std::size_t count = 1;
  std::string print;
  bool json = false;
  bool none = false;     // no matching message may arrive within --timeout
  std::optional<std::size_t> exactly;  // this many, and no more for --settle
  std::string settle = "2s";
};

// One condition for a --subject, --from or --body pattern. Patterns go through
// RE2 (linear time, bounded stack): a user's pattern can neither crash the
// command on a long body nor run past --timeout.
MessagePredicate condition(const char* option, const std::string& pattern,
                           MessagePredicate (*matches)(Pattern)) {
  if (pattern.empty())
    throw UsageError(std::string(option) +
                     ": the pattern is empty, and an empty pattern matches every message (an "
                     "unset shell variable?); leave the option out to accept any message");
  try {
    return matches(Pattern(pattern));
  } catch (const PatternError& e) {
    throw UsageError(std::string(option) + ": " + e.what() +
                     ". The syntax is RE2's: https://github.com/google/re2/wiki/Syntax");
  }
}

// All conditions must hold. Described as "has subject matching /Verify/ and
// sender matching /@app\.test$/"; a message that fails is explained per
// condition ("whose subject "Sale" does not match /Verify/").
MessagePredicate make_predicate(const WaitArgs& args) {
  std::optional<MessagePredicate> all;
  auto add = [&all](MessagePredicate p) { all = all ? *all && p : std::move(p); };
  if (args.subject) add(condition("--subject", *args.subject, &subject_matches));
  if (args.from) add(condition("--from", *args.from, &sender_matches));
  if (args.body) add(condition("--body", *args.body, &body_matches));
  return all ? *all : MessagePredicate::any();
}

// "\r"-updated progress on stderr, only when stderr is a terminal. The line is
// redrawn several times a second, not only after each poll: a long-poll can
// hold for many seconds, and a frozen clock looks like a hang.
class ProgressLine {
 public:
  explicit ProgressLine(std::string mailbox)
      : enabled_(isatty(STDERR_FILENO) == 1), mailbox_(std::move(mailbox)) {
    if (enabled_) ticker_ = std::jthread([this](std::stop_token stop) { tick(stop); });
  }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() { finish(); }

  [[nodiscard]] bool enabled() const { return enabled_; }

  // From WaitOptions::on_poll: must not throw.
  void update(const WaitProgress& p) noexcept {
    std::lock_guard lock(mutex_);
    polls_ = p.polls;
    messages_seen_ = p.messages_seen;
    draw_locked();
  }

  // Stops the redrawing and ends the line, so what follows starts on its own.
  void finish() noexcept {
    if (ticker_.joinable()) {
      ticker_.request_stop();
      wake_.notify_all();
      ticker_.join();
    }
    std::lock_guard lock(mutex_);
    if (!shown_) return;
    draw_locked();
    std::fputs("\n", stderr);
    std::fflush(stderr);
    shown_ = false;
  }

 private:
  void tick(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    while (!stop.stop_requested()) {
      draw_locked();
      wake_.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; });
    }
  }

  void draw_locked() noexcept {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    char line[512];
    std::snprintf(line, sizeof line, "\rtempmail: waiting for %s: %.1f s, %d %s, %zu %s seen\x1b[K",
                  mailbox_.c_str(), elapsed, polls_, polls_ == 1 ? "poll" : "polls", messages_seen_,
                  messages_seen_ == 1 ? "message" : "messages");
    std::fputs(line, stderr);
    std::fflush(stderr);
    shown_ = true;
  }

  const bool enabled_;
  const std::string mailbox_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  std::condition_variable_any wake_;
  int polls_ = 0;
  std::size_t messages_seen_ = 0;
  bool shown_ = false;
  std::jthread ticker_;  // last: joined before the members it uses are destroyed
};

// --print otp / --print link / --print id: one line a message, or CommandFailed
// naming the message that has no (unambiguous) value.
std::string printed_values(const std::vector<Message>& messages, const std::string& what) {
  std::string out;
  for (const Message& m : messages) {
    if (what == "id") {
      out += m.id + "\n";
      continue;
    }
    const Extraction x = extract(m);
    const std::string which = "message " + m.id + " (subject \"" + m.subject + "\")";
    if (what == "otp") {
      if (!x.otp.code) throw CommandFailed(which + ": " + describe_otp_failure(x.otp));
      out += *x.otp.code + "\n";
    } else {
      if (!x.verification_link) throw CommandFailed(which + ": " + describe_link_failure(x));
      out += x.verification_link->url + "\n";
    }
  }
  return out;
}

json::value output_json(const std::vector<Message>& messages, const WaitArgs& args) {
  json::array items;
  for (const Message& m : messages) {
    if (!args.json) {
      items.push_back(message_json(m));
      continue;
    }
    json::object item{{"message", message_json(m)}};
    for (auto& [key, value] : extraction_json(extract(m))) item.emplace(key, value);
    items.push_back(std::move(item));
  }
  if (args.count == 1 && !args.exactly) return std::move(items.front());  // --exactly: an array
  return items;
}

std::vector<Message> wait_as_asked(Mailbox& box, const MessagePredicate& predicate,
                                   const WaitArgs& args, std::chrono::milliseconds timeout) {
  if (args.none) {
    box.expect_none(predicate, timeout);
    return {};
  }
  if (args.exactly)
    return box.wait_for_exactly(predicate, *args.exactly, timeout, *parse_duration(args.settle));
  if (args.count == 1) return {box.wait_for(predicate, timeout)};
  return box.wait_for_count(predicate, args.count, timeout);
}

void run_wait(const GlobalOptions& global, const WaitArgs& args) {
  const MessagePredicate predicate = make_predicate(args);  // bad patterns before any call
  const std::chrono::milliseconds timeout = *parse_duration(args.timeout);
  Client client = make_client(global);

  ProgressLine progress(args.email);
  WaitOptions options;
  if (progress.enabled())
    options.on_poll = [&progress](const WaitProgress& p) { progress.update(p); };
  Mailbox box = Mailbox::attach(client, args.email, options);
  // On an exception the progress line's destructor ends the line before the error is shown.
  const std::vector<Message> messages = wait_as_asked(box, predicate, args, timeout);
  progress.finish();

  if (args.none) {
    print_json(json::array{});
    return;
  }
  if (!args.print.empty()) {
    write_stdout(printed_values(messages, args.print));
    return;
  }
  print_json(output_json(messages, args));
}

}  // namespace

void add_wait_command(CLI::App& app, const GlobalOptions& global, Commands& commands) {
  auto args = std::make_shared<WaitArgs>();
  auto* sub = app.add_subcommand(
      "wait", "Wait for messages that match, then print them, their code, link or id");
  sub->add_option("EMAIL", args->email, "the mailbox's address")->required()->check(not_empty());
  sub->add_option("--subject", args->subject, "the subject matches this regular expression")
      ->type_name("RE");
  sub->add_option("--from", args->from,
                  "the sender (\"user@host\" or \"Name <user@host>\") matches this regular "
                  "expression")
      ->type_name("RE");
  sub->add_option("--body", args->body,
                  "the visible text of the body matches this regular expression")
      ->type_name("RE");
  sub->add_option("--timeout", args->timeout, "give up after this long (30s, 2m, 1m30s, 500ms)")
      ->check(duration_validator())
      ->type_name("DURATION")
      ->capture_default_str();
  auto* count = sub->add_option("--count", args->count, "wait for this many matching messages")
                    ->check(CLI::Range(std::size_t{1}, std::size_t{1000}))
                    ->type_name("N")
                    ->capture_default_str();
  auto* exactly = sub->add_option("--exactly", args->exactly,
                                  "wait for N matching messages, then watch --settle longer: exit "
                                  "7 when more match (a duplicate email, a second code)")
                      ->check(CLI::Range(std::size_t{1}, std::size_t{1000}))
                      ->type_name("N")
                      ->excludes(count);
  sub->add_option("--settle", args->settle, "with --exactly: how long to watch for more")
      ->check(duration_validator())
      ->type_name("DURATION")
      ->capture_default_str()
      ->needs(exactly);
  auto* print = sub->add_option("--print", args->print,
                                "print only the one-time code, the verification link or the "
                                "message id (one line a message)")
                    ->check(CLI::IsMember({"otp", "link", "id"}))
                    ->type_name("WHAT");
  sub->add_flag("--json", args->json,
                "print each message with what was extracted from it (otp, otp_candidates, "
                "verification_link, links)")
      ->excludes(print);
  sub->add_flag("--none", args->none,
                "watch for all of --timeout and exit 7 as soon as a matching message arrives "
                "(prints [] when none did)")
      ->excludes(count, exactly, print);
  sub->footer(
      "Patterns are RE2 regular expressions (github.com/google/re2/wiki/Syntax), searched\n"
      "anywhere in the text; ^ and $ match at the start and end of every line (\\A and \\z only\n"
      "at the ends of the text), so 'code is [0-9]+$' matches a body that ends with a newline.\n"
      "Every pattern given must match. Messages returned before are not returned again\n"
      "by the same call. Output: the message's JSON (--count N > 1: an array of N); with\n"
      "--json {\"message\": {...}, \"otp\", \"otp_candidates\", \"verification_link\", \"links\"}\n"
      "(an array with --count N > 1); with --print one plain line a message. Exit 4 on\n"
      "timeout, with a report of every message that arrived and why it did not match.\n"
      "--none and --exactly N check what must not arrive: exit 7 when a matching message (or\n"
      "an N+1st) arrives, with a report naming it; passing proves only that none arrived\n"
      "within the time watched. --exactly prints an array, like --count.\n"
      "Example: CODE=$(tempmail wait \"$BOX\" --subject 'Verify' --print otp --timeout 2m)\n"
      "         tempmail wait \"$BOX\" --subject 'Reset' --none --timeout 10s");
  commands.push_back({sub, [&global, args] { run_wait(global, *args); }});
}

}  // namespace tempmail::cli
