// Detection lag and API cost of Mailbox::wait_for, against an embedded
// local::Server. For each window T, each sample sends one message over SMTP at
// a random moment in [0, T) after the wait starts, and records
//   lag   = wait_for returning - the sender reading its 250 (what a test waits
//           beyond the delivery itself),
//   calls = quota calls the wait spent (X-RateLimit-Used through
//           Client::last_quota(), before and after), and
//   polls = the requests the wait made (WaitReport::polls).
// Modes: "poll" (list endpoint with the default backoff) and "push" (the
// server's long-poll, when WaitOptions has the switch). One JSON line per
// (mode, window) on stdout.
//
//   bench_wait_lag [--windows=0.5,2,5] [--samples=5] [--modes=poll,push] [--seed=N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "smtp_send.hpp"
#include "tempmail/client.hpp"
#include "tempmail/local/server.hpp"
#include "tempmail/mailbox.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The long-poll switch is new; without it only polling can be measured.
// TODO(#7): drop the detection once WaitOptions::long_poll is released.
template <class W>
constexpr bool kHasPush = requires(W w) {
  w.long_poll;
};

template <class W>
bool set_push(W& wait, bool push) {
  if constexpr (kHasPush<W>) {
    wait.long_poll = push;
    return true;
  } else {
    return !push;
  }
}

struct Sample {
  double lag_ms = 0;
  std::int64_t calls = 0;
  int polls = 0;
};

std::vector<double> parse_list(const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stod(item));
  return out;
}

// Sends one message at `when` and returns the moment its 250 was read.
Clock::time_point send_at(Clock::time_point when, const tempmail::local::Server& server,
                          const std::string& to) {
  std::this_thread::sleep_until(when);  // the random arrival time is the point of the sample
  examples::SmtpConnection smtp(server.smtp_host(), server.smtp_port());
  smtp.command("", 220);
  smtp.command("EHLO bench.test", 250);
  smtp.command("MAIL FROM:<noreply@bench.test>", 250);
  smtp.command("RCPT TO:<" + to + ">", 250);
  smtp.command("DATA", 354);
  smtp.write("From: Bench <noreply@bench.test>\r\nTo: " + to +
             "\r\nSubject: Your code is 123456\r\n\r\nYour verification code is 123456.\r\n.\r\n");
  smtp.command("", 250);
  const auto acked = Clock::now();
  smtp.command("QUIT", 221);
  return acked;
}

Sample sample(tempmail::Client& client, const tempmail::local::Server& server, bool push,
              double window_s, std::mt19937& rng) {
  tempmail::MailboxOptions options;
  set_push(options.wait, push);
  tempmail::Mailbox box(client, options);
  const std::int64_t before = client.last_quota() ? client.last_quota()->used : 0;
  std::uniform_real_distribution<double> at(0.0, window_s);
  const auto start = Clock::now();
  const auto when =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at(rng)));
  Clock::time_point acked{};
  std::thread sender([&] { acked = send_at(when, server, box.address()); });
  const auto timeout = std::chrono::milliseconds(static_cast<long>(window_s * 1000)) + 20s;
  tempmail::Message m;
  try {
    m = box.wait_for(tempmail::MessagePredicate::any(), timeout);
  } catch (...) {
    sender.join();
    throw;
  }
  const auto returned = Clock::now();
  sender.join();
  Sample s;
  s.lag_ms = std::chrono::duration<double, std::milli>(returned - acked).count();
  s.calls = (client.last_quota() ? client.last_quota()->used : 0) - before;
  s.polls = box.last_report().polls;
  return s;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<double> windows{0.5, 2, 5};
  int samples = 5;
  std::vector<std::string> modes{"poll", "push"};
  unsigned seed = 7;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.starts_with("--windows=")) {
      windows = parse_list(arg.substr(10));
    } else if (arg.starts_with("--samples=")) {
      samples = std::stoi(arg.substr(10));
    } else if (arg.starts_with("--modes=")) {
      modes.clear();
      std::stringstream in(arg.substr(8));
      std::string m;
      while (std::getline(in, m, ',')) modes.push_back(m);
    } else if (arg.starts_with("--seed=")) {
      seed = static_cast<unsigned>(std::stoul(arg.substr(7)));
    } else {
      std::cerr << "usage: bench_wait_lag [--windows=0.5,2,5] [--samples=5] "
                   "[--modes=poll,push] [--seed=N]\n";
      return 2;
    }
  }
  std::mt19937 rng(seed);
  tempmail::local::Server server({.monthly_quota = 1'000'000'000});
  tempmail::Client client({.base_url = server.base_url(), .api_key = server.api_key()});
  for (const auto& mode : modes) {
    const bool push = mode == "push";
    tempmail::WaitOptions probe;
    if (!set_push(probe, push)) {
      std::printf("{\"mode\":\"%s\",\"supported\":false}\n", mode.c_str());
      std::fflush(stdout);
      continue;
    }
    for (double window : windows) {
      std::vector<double> lags;
      double calls = 0;
      double polls = 0;
      for (int i = 0; i < samples; ++i) {
        const Sample s = sample(client, server, push, window, rng);
        lags.push_back(s.lag_ms);
        calls += static_cast<double>(s.calls);
        polls += s.polls;
      }
      double mean = 0;
      for (double l : lags) mean += l;
      mean /= static_cast<double>(lags.size());
      std::printf(
          "{\"mode\":\"%s\",\"supported\":true,\"window_s\":%g,\"samples\":%d,"
          "\"lag_ms_mean\":%.3f,\"lag_ms_p50\":%.3f,\"lag_ms_max\":%.3f,"
          "\"calls_mean\":%.2f,\"polls_mean\":%.2f}\n",
          mode.c_str(), window, samples, mean, percentile(lags, 0.5), percentile(lags, 1.0),
          calls / samples, polls / samples);
      std::fflush(stdout);
    }
  }
  return 0;
}
