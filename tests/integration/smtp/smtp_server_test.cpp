// SmtpServer on 127.0.0.1:0 with a recording MailSink, driven by real clients:
// a raw socket (exact bytes and replies), swaks and Python's smtplib.
#include "local/smtp/smtp_server.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "local/io_pool.hpp"
#include "local/mail_sink.hpp"
#include "mime/parse.hpp"
#include "support/subprocess.hpp"

namespace tempmail::local::detail {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = 10s;  // generous upper bound for anything that should happen now

struct Delivery {
  std::string raw;
  std::vector<std::string> recipients;
};

// Records what the server hands over. kHold keeps each `done` until the test
// releases it; kFail answers every delivery with an error.
class RecordingSink : public MailSink {
 public:
  enum class Mode { kImmediate, kHold, kFail };

  explicit RecordingSink(std::set<std::string> live) : live_(std::move(live)) {}

  void accept_every_recipient() {
    const std::lock_guard lock(mutex_);
    accept_all_ = true;
  }

  void set_mode(Mode mode) {
    const std::lock_guard lock(mutex_);
    mode_ = mode;
  }

  bool accepts_recipient(std::string_view address) override {
    const std::lock_guard lock(mutex_);
    queried_.emplace_back(address);
    return accept_all_ || live_.contains(std::string(address));
  }

  void deliver(std::shared_ptr<const std::string> raw, Envelope envelope,
               std::function<void(std::error_code)> done) override {
    Mode mode;
    {
      const std::lock_guard lock(mutex_);
      deliveries_.push_back({*raw, std::move(envelope.rcpt_to)});
      mode = mode_;
      if (mode == Mode::kHold) held_.push_back(std::move(done));
    }
    changed_.notify_all();
    if (mode == Mode::kImmediate) done({});
    if (mode == Mode::kFail) done(std::make_error_code(std::errc::io_error));
  }

  bool wait_for_deliveries(std::size_t n, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return deliveries_.size() >= n; });
  }

  void release_held(std::error_code error = {}) {
    std::vector<std::function<void(std::error_code)>> held;
    {
      const std::lock_guard lock(mutex_);
      held.swap(held_);
    }
    for (auto& done : held) done(error);
  }

  std::vector<Delivery> deliveries() {
    const std::lock_guard lock(mutex_);
    return deliveries_;
  }
  std::vector<std::string> queried() {
    const std::lock_guard lock(mutex_);
    return queried_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  const std::set<std::string> live_;
  Mode mode_ = Mode::kImmediate;
  bool accept_all_ = false;
  std::vector<Delivery> deliveries_;
  std::vector<std::string> queried_;
  std::vector<std::function<void(std::error_code)>> held_;
};

// A blocking loopback client that reads whole SMTP replies with a deadline.
class RawClient {
 public:
  /// `receive_buffer` > 0 shrinks the socket's receive buffer (SO_RCVBUF), so
  /// that the server's replies back up when the client does not read them.
  explicit RawClient(std::uint16_t port, int receive_buffer = 0)
      : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;  // the server closed: the next reply() says so
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  /// One complete reply (all lines of a multi-line one), "<timeout>" or "<closed>".
  std::string reply(std::chrono::milliseconds timeout = kWait) {
    std::string reply;
    const auto deadline = Clock::now() + timeout;
    while (true) {
      std::string line;
      if (!read_line(line, deadline)) return reply + (closed_ ? "<closed>" : "<timeout>");
      reply += line;
      if (line.size() < 4 || line[3] != '-') return reply;
    }
  }

  std::string command(std::string_view line) {
    send(std::string(line) + "\r\n");
    return reply();
  }

  /// True when the server closes (or resets) the connection before the
  /// timeout, without reading what it sent.
  bool wait_hang_up(std::chrono::milliseconds timeout) {
    pollfd pfd{fd_, POLLRDHUP, 0};
    return ::poll(&pfd, 1, static_cast<int>(timeout.count())) == 1 &&
           (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

  /// Ends both directions at once (unblocks a send() in another thread).
  void shutdown() { ::shutdown(fd_, SHUT_RDWR); }

  /// True when the server closes the connection before the timeout.
  bool wait_closed(std::chrono::milliseconds timeout = kWait) {
    const auto deadline = Clock::now() + timeout;
    std::string ignored;
    while (read_line(ignored, deadline)) {
    }
    return closed_;
  }

 private:
  bool fill(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  bool read_line(std::string& line, Clock::time_point deadline) {
    while (buffer_.find('\n') == std::string::npos) {
      if (closed_ || !fill(deadline)) return false;
    }
    const auto end = buffer_.find('\n') + 1;
    line = buffer_.substr(0, end);
    buffer_.erase(0, end);
    return true;
  }

  int fd_;
  std::string buffer_;
  bool closed_ = false;
};

class SmtpServerTest : public ::testing::Test {
 protected:
  void start(SmtpLimits limits = {}) {
    server_ = std::make_unique<SmtpServer>(
        pool_.front(),
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0), sink_,
        std::move(limits), pool_.picker());
    server_->start();
    pool_.start({});
  }

  void TearDown() override {
    if (server_) server_->stop();
    pool_.finish(std::chrono::milliseconds(0), [] {});
  }

  [[nodiscard]] std::uint16_t port() const { return server_->local_endpoint().port(); }

  /// A connected client past the greeting and EHLO.
  std::unique_ptr<RawClient> greeted_client() {
    auto client = std::make_unique<RawClient>(port());
    EXPECT_THAT(client->reply(), StartsWith("220 "));
    EXPECT_THAT(client->command("EHLO client.test"), HasSubstr("250 "));
    return client;
  }

  RecordingSink sink_{{"box@example.com", "other@example.com", "third@example.com"}};
  IoPool pool_{2};  // as the server runs it: one io_context per thread
  std::unique_ptr<SmtpServer> server_;
};

// --- protocol basics, raw socket ---------------------------------------------

TEST_F(SmtpServerTest, GreetsAndAdvertisesExtensionsOnEhlo) {
  start({.hostname = "mx.test", .max_message_bytes = 12345});
  RawClient client(port());
  EXPECT_EQ(client.reply(), "220 mx.test ESMTP tempmail ready\r\n");
  EXPECT_EQ(
      client.command("EHLO client.test"),
      "250-mx.test greets client.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
      "250-SMTPUTF8\r\n250-SIZE 12345\r\n250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n");
  EXPECT_THAT(client.command("HELO client.test"), StartsWith("250 mx.test"));
  EXPECT_THAT(client.command("NOOP"), StartsWith("250 2.0.0"));
  EXPECT_THAT(client.command("VRFY box"), StartsWith("252 2.5.0"));
  EXPECT_THAT(client.command("HELP"), StartsWith("214 2.0.0"));
  EXPECT_THAT(client.command("RSET"), StartsWith("250 2.0.0"));
  EXPECT_THAT(client.command("EXPN list"), StartsWith("502 5.5.1"));
  EXPECT_THAT(client.command("FROB"), StartsWith("500 5.5.1"));
  EXPECT_THAT(client.command("MAIL FROM:<a@b.test> RET=HDRS"), StartsWith("555 5.5.4"));
  EXPECT_THAT(client.command("QUIT"), StartsWith("221 2.0.0"));
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(SmtpServerTest, DeliversAMessageAndAnswers250) {
  start();
  auto client = greeted_client();
  EXPECT_THAT(client->command("MAIL FROM:<a@b.test>"), StartsWith("250 2.1.0"));
  EXPECT_THAT(client->command("RCPT TO:<Box@Example.COM>"), StartsWith("250 2.1.5"));
  EXPECT_THAT(client->command("DATA"), StartsWith("354 "));
  EXPECT_THAT(client->command("Subject: hi\r\n\r\nhello\r\n."), StartsWith("250 2.0.0"));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  const Delivery delivery = sink_.deliveries().at(0);
  EXPECT_THAT(delivery.recipients, ElementsAre("box@example.com"));  // lower-cased
  EXPECT_THAT(delivery.raw, HasSubstr("Subject: hi\r\n\r\nhello\r\n"));
  EXPECT_THAT(sink_.queried(), ElementsAre("box@example.com"));
}

TEST_F(SmtpServerTest, PrependsAnRfc5321ReceivedHeader) {
  start({.hostname = "mx.test"});
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<box@example.com>");
  client->command("DATA");
  ASSERT_THAT(client->command("Subject: trace\r\n\r\nx\r\n."), StartsWith("250 "));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  const std::string raw = sink_.deliveries().at(0).raw;
  EXPECT_THAT(raw, StartsWith("Received: from client.test ([127.0.0.1])\r\n\tby mx.test with "
                              "ESMTP\r\n\tfor <box@example.com>; "));
  EXPECT_THAT(raw, HasSubstr(" +0000\r\nSubject: trace\r\n"));
}

TEST_F(SmtpServerTest, AcceptsTheNullReversePath) {
  start();
  auto client = greeted_client();
  EXPECT_THAT(client->command("MAIL FROM:<>"), StartsWith("250 2.1.0"));
  EXPECT_THAT(client->command("RCPT TO:<box@example.com>"), StartsWith("250 "));
}

TEST_F(SmtpServerTest, EnforcesTheCommandSequence) {
  start();
  RawClient client(port());
  client.reply();
  EXPECT_THAT(client.command("MAIL FROM:<a@b.test>"), StartsWith("503 5.5.1"));
  EXPECT_THAT(client.command("EHLO client.test"), HasSubstr("250 "));
  EXPECT_THAT(client.command("RCPT TO:<box@example.com>"), StartsWith("503 5.5.1"));
  EXPECT_THAT(client.command("DATA"), StartsWith("503 5.5.1"));
  EXPECT_THAT(client.command("MAIL FROM:<a@b.test>"), StartsWith("250 "));
  EXPECT_THAT(client.command("MAIL FROM:<a@b.test>"), StartsWith("503 5.5.1"));
  EXPECT_THAT(client.command("DATA"), StartsWith("503 5.5.1"));
  EXPECT_THAT(client.command("RSET"), StartsWith("250 "));
  EXPECT_THAT(client.command("MAIL FROM:<a@b.test>"), StartsWith("250 "));
}

TEST_F(SmtpServerTest, AnswersSyntaxErrorsWith501) {
  start();
  auto client = greeted_client();
  EXPECT_THAT(client->command("MAIL FROM:a@b.test>"), StartsWith("501 "));
  EXPECT_THAT(client->command("MAIL TO:<a@b.test>"), StartsWith("501 5.5.2"));
  EXPECT_THAT(client->command("EHLO"), StartsWith("501 5.5.4"));
}

// --- recipients ----------------------------------------------------------------

TEST_F(SmtpServerTest, RejectsAnUnknownRecipientWith550AndDeliversToTheOthers) {
  start();
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  EXPECT_THAT(client->command("RCPT TO:<box@example.com>"), StartsWith("250 "));
  EXPECT_THAT(client->command("RCPT TO:<nobody@example.com>"),
              AllOf(StartsWith("550 5.1.1"), HasSubstr("nobody@example.com")));
  EXPECT_THAT(client->command("RCPT TO:<other@example.com>"), StartsWith("250 "));
  client->command("DATA");
  EXPECT_THAT(client->command("Subject: x\r\n\r\nx\r\n."), StartsWith("250 "));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  EXPECT_THAT(sink_.deliveries().at(0).recipients,
              ElementsAre("box@example.com", "other@example.com"));
}

TEST_F(SmtpServerTest, AnswersDataWith554WhenEveryRecipientWasRejected) {
  start();
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<nobody@example.com>");
  EXPECT_THAT(client->command("DATA"), StartsWith("554 5.5.1"));
}

TEST_F(SmtpServerTest, Answers452PastTheRecipientLimit) {
  start();  // max_recipients = 100
  sink_.accept_every_recipient();
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  for (int i = 1; i <= 100; ++i) {
    ASSERT_THAT(client->command("RCPT TO:<box" + std::to_string(i) + "@example.com>"),
                StartsWith("250 "))
        << "recipient " << i;
  }
  EXPECT_THAT(client->command("RCPT TO:<box101@example.com>"), StartsWith("452 4.5.3"));
  client->command("DATA");
  EXPECT_THAT(client->command("Subject: many\r\n\r\nx\r\n."), StartsWith("250 "));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  EXPECT_EQ(sink_.deliveries().at(0).recipients.size(), 100u);
}

// --- sizes and long lines ------------------------------------------------------

TEST_F(SmtpServerTest, RejectsMailWhoseDeclaredSizeIsOverTheLimit) {
  start({.max_message_bytes = 1000});
  auto client = greeted_client();
  EXPECT_THAT(client->command("MAIL FROM:<a@b.test> SIZE=1001"), StartsWith("552 5.3.4"));
  EXPECT_THAT(client->command("MAIL FROM:<a@b.test> SIZE=1000"), StartsWith("250 "));
}

TEST_F(SmtpServerTest, RejectsDataOverTheLimitWith552AndStaysUsable) {
  start({.max_message_bytes = 1000});
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<box@example.com>");
  client->command("DATA");
  std::string big;
  for (int i = 0; i < 100; ++i) big += "0123456789012345678901234567890123456789\r\n";
  EXPECT_THAT(client->command(big + "."), StartsWith("552 5.3.4"));
  EXPECT_TRUE(sink_.deliveries().empty());
  EXPECT_THAT(client->command("NOOP"), StartsWith("250 "));
}

TEST_F(SmtpServerTest, RejectsAnOverlongCommandLineAndStaysUsable) {
  start({.max_command_line = 512});
  auto client = greeted_client();
  // Longer than the limit and longer than one read: the rest is dropped, not buffered.
  client->send("NOOP " + std::string(200'000, 'x') + "\r\n");
  EXPECT_THAT(client->reply(), StartsWith("500 5.5.6"));
  EXPECT_THAT(client->command("NOOP"), StartsWith("250 "));
}

TEST_F(SmtpServerTest, ClosesOnAnOverlongDataLine) {
  start({.max_text_line = 1000});
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<box@example.com>");
  client->command("DATA");
  client->send(std::string(5000, 'y'));
  EXPECT_THAT(client->reply(), StartsWith("500 5.5.6"));
  EXPECT_TRUE(client->wait_closed());
}

// --- DATA contents ---------------------------------------------------------------

TEST_F(SmtpServerTest, UnstuffsLeadingDotsAndNormalisesBareLf) {
  start();
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<box@example.com>");
  client->command("DATA");
  // Bare LF line ends are line ends, but only <CRLF>.<CRLF> ends the data.
  client->send("Subject: dots\n\n..leading dot\n...two dots\r\n.\r\n");
  EXPECT_THAT(client->reply(), StartsWith("250 "));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  EXPECT_THAT(sink_.deliveries().at(0).raw,
              HasSubstr("Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n"));
}

// --- the end of DATA (SMTP smuggling) ---------------------------------------------

// What a sender puts between its first message and a second, spoofed one, hoping
// that the server ends DATA there while a relay before it did not.
class SmtpDataEndTest : public SmtpServerTest, public ::testing::WithParamInterface<std::string> {};

std::string name_line_ends(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (const char c : info.param) name += c == '\r' ? "Cr" : c == '\n' ? "Lf" : "Dot";
  return name;
}

TEST_P(SmtpDataEndTest, EndsDataOnlyAtCrLfDotCrLfSoNoSecondMessageIsSmuggled) {
  start();
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<box@example.com>");
  ASSERT_THAT(client->command("DATA"), StartsWith("354 "));
  client->send("Subject: first\r\n\r\nfirst body" + GetParam() +
               "MAIL FROM:<spoof@evil.test>\r\nRCPT TO:<other@example.com>\r\nDATA\r\n"
               "Subject: smuggled\r\n\r\nsecond body\r\n.\r\n");
  EXPECT_THAT(client->reply(), StartsWith("250 2.0.0"));
  EXPECT_THAT(client->command("QUIT"), StartsWith("221 "));  // no reply was left over
  const auto deliveries = sink_.deliveries();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_THAT(deliveries[0].recipients, ElementsAre("box@example.com"));
  EXPECT_THAT(deliveries[0].raw, AllOf(HasSubstr("\r\n\r\nfirst body"),
                                       HasSubstr("Subject: smuggled\r\n\r\nsecond body\r\n")));
}

INSTANTIATE_TEST_SUITE_P(BareLfAndBareCr, SmtpDataEndTest,
                         ::testing::Values("\n.\n", "\r\n.\n", "\n.\r\n", "\n.\r", "\r.\r",
                                           "\r\n.\r", "\r.\r\n", "\r.\n", "\r\n.\r\r\n"),
                         name_line_ends);

TEST_F(SmtpServerTest, KeepsADotLineNextToABareLfAsDataWithCrLfLineEnds) {
  start();
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<box@example.com>");
  client->command("DATA");
  client->send("Subject: lf\r\n\r\none\n.\ntwo\r\n.\nthree\n.\r\nfour\r\n.\r\n");
  EXPECT_THAT(client->reply(), StartsWith("250 2.0.0"));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  EXPECT_THAT(sink_.deliveries().at(0).raw,
              HasSubstr("Subject: lf\r\n\r\none\r\n.\r\ntwo\r\n.\r\nthree\r\n.\r\nfour\r\n"));
}

TEST_F(SmtpServerTest, KeepsBareCrInDataAsIs) {
  start();
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<box@example.com>");
  client->command("DATA");
  client->send("Subject: cr\r\n\r\na\rb\r.\rc\r\r\n.\r\n");
  EXPECT_THAT(client->reply(), StartsWith("250 2.0.0"));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  EXPECT_THAT(sink_.deliveries().at(0).raw, HasSubstr("\r\n\r\na\rb\r.\rc\r\r\n"));
}

TEST_F(SmtpServerTest, EndsAnEmptyMessageAtTheFirstCrLfDotCrLf) {
  start();
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<box@example.com>");
  client->command("DATA");
  client->send(".\r\n");
  EXPECT_THAT(client->reply(), StartsWith("250 2.0.0"));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  EXPECT_THAT(sink_.deliveries().at(0).raw, ::testing::EndsWith(" +0000\r\n"));  // Received only
}

// A command line ends at LF (with or without CR before it); a bare CR is part
// of the line, so it cannot split one line into two commands.
TEST_F(SmtpServerTest, AnswersACommandLineWithABareCrAsOneCommand) {
  start();
  auto client = greeted_client();
  client->send(
      "RSET\rMAIL FROM:<a@b.test>\r\nMAIL FROM:<a@b.test> SIZE=1\rRCPT TO:<box@example.com>\r\n"
      "RCPT TO:<box@example.com>\r\n");
  EXPECT_THAT(client->reply(), StartsWith("500 5.5.1"));
  EXPECT_THAT(client->reply(), StartsWith("501 5.5.4"));
  EXPECT_THAT(client->reply(), StartsWith("503 5.5.1"));  // no MAIL FROM was accepted
  EXPECT_THAT(client->command("NOOP"), StartsWith("250 2.0.0"));
}

TEST_F(SmtpServerTest, AnswersEachBareLfTerminatedCommandOnceInOrder) {
  start();
  RawClient client(port());
  client.reply();
  client.send("EHLO client.test\nMAIL FROM:<a@b.test>\nRCPT TO:<box@example.com>\nNOOP\r\n");
  EXPECT_THAT(client.reply(), HasSubstr("250 ENHANCEDSTATUSCODES"));
  EXPECT_THAT(client.reply(), StartsWith("250 2.1.0"));
  EXPECT_THAT(client.reply(), StartsWith("250 2.1.5"));
  EXPECT_THAT(client.reply(), StartsWith("250 2.0.0"));
  EXPECT_THAT(client.command("QUIT"), StartsWith("221 "));  // no reply was left over
}

// --- pipelining ------------------------------------------------------------------

TEST_F(SmtpServerTest, ProcessesPipelinedCommandsInOrder) {
  start();
  RawClient client(port());
  client.reply();
  client.send(
      "EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<box@example.com>\r\n"
      "RCPT TO:<nobody@example.com>\r\nRCPT TO:<other@example.com>\r\nDATA\r\n");
  EXPECT_THAT(client.reply(), HasSubstr("250 ENHANCEDSTATUSCODES"));
  EXPECT_THAT(client.reply(), StartsWith("250 2.1.0"));
  EXPECT_THAT(client.reply(), StartsWith("250 2.1.5"));
  EXPECT_THAT(client.reply(), StartsWith("550 5.1.1"));
  EXPECT_THAT(client.reply(), StartsWith("250 2.1.5"));
  EXPECT_THAT(client.reply(), StartsWith("354 "));
  client.send(
      "Subject: p\r\n\r\nbody\r\n.\r\nMAIL FROM:<c@d.test>\r\nRCPT TO:<box@example.com>\r\n");
  EXPECT_THAT(client.reply(), StartsWith("250 2.0.0"));
  EXPECT_THAT(client.reply(), StartsWith("250 2.1.0"));
  EXPECT_THAT(client.reply(), StartsWith("250 2.1.5"));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  EXPECT_THAT(sink_.deliveries().at(0).recipients,
              ElementsAre("box@example.com", "other@example.com"));
}

// Far more replies than the sockets hold: the server writes what the socket
// takes, and the rest as the client reads, in order and without losing one.
TEST_F(SmtpServerTest, AnswersEveryPipelinedCommandOfAClientThatReadsLate) {
  start();
  auto client = std::make_unique<RawClient>(port(), 4096);
  ASSERT_THAT(client->reply(), StartsWith("220 "));
  constexpr int kCommands = 100000;
  std::string commands;
  for (int i = 0; i < kCommands; ++i) commands += "NOOP\r\n";
  commands += "QUIT\r\n";
  std::thread sender([&] { client->send(commands); });  // blocks while replies back up
  std::this_thread::sleep_for(300ms);
  int answered = 0;
  std::string last;
  while (answered < kCommands) {
    last = client->reply();
    if (!last.starts_with("250 ")) break;
    ++answered;
  }
  EXPECT_EQ(answered, kCommands) << "then: " << last;
  EXPECT_THAT(client->reply(), StartsWith("221 "));
  sender.join();
}

TEST_F(SmtpServerTest, ClosesASessionWhoseClientStopsReadingItsReplies) {
  start({.idle_timeout = 1s});
  RawClient stuck(port(), 4096);
  std::string commands;
  for (int i = 0; i < 1000000; ++i) commands += "NOOP\r\n";  // 14 MB of replies
  // Never reads: the server's replies back up until its write cannot finish.
  std::thread sender([&] { stuck.send(commands); });
  auto other = greeted_client();  // others are served meanwhile
  EXPECT_THAT(other->command("NOOP"), StartsWith("250 "));
  // The idle timeout closes the stuck session: its socket hangs up.
  EXPECT_TRUE(stuck.wait_hang_up(kWait)) << "the session of a client that never reads stayed open";
  stuck.shutdown();  // ends the send if the server did not
  sender.join();
  EXPECT_THAT(greeted_client()->command("NOOP"), StartsWith("250 "));
}

// --- the sink decides --------------------------------------------------------------

TEST_F(SmtpServerTest, Answers250OnlyAfterTheSinkIsDone) {
  start();
  sink_.set_mode(RecordingSink::Mode::kHold);
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<box@example.com>");
  client->command("DATA");
  client->send("Subject: held\r\n\r\nx\r\n.\r\n");
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  // The sink has the message but has not said it is durable: no reply yet.
  EXPECT_EQ(client->reply(300ms), "<timeout>");
  sink_.release_held();
  EXPECT_THAT(client->reply(), StartsWith("250 2.0.0"));
}

TEST_F(SmtpServerTest, Answers451WhenTheSinkFails) {
  start();
  sink_.set_mode(RecordingSink::Mode::kFail);
  auto client = greeted_client();
  client->command("MAIL FROM:<a@b.test>");
  client->command("RCPT TO:<box@example.com>");
  client->command("DATA");
  EXPECT_THAT(client->command("Subject: x\r\n\r\nx\r\n."), StartsWith("451 4.3.0"));
  // The transaction is over: a new one can start.
  EXPECT_THAT(client->command("MAIL FROM:<a@b.test>"), StartsWith("250 "));
}

// --- hostile and idle clients -------------------------------------------------------

TEST_F(SmtpServerTest, ClosesAnIdleSessionWith421) {
  start({.idle_timeout = 1s});
  RawClient client(port());
  EXPECT_THAT(client.reply(), StartsWith("220 "));
  EXPECT_THAT(client.reply(5s), StartsWith("421 4.4.2"));
  EXPECT_TRUE(client.wait_closed());
}

TEST_F(SmtpServerTest, ClosesASessionThatDripsBytesWithoutEverFinishingALine) {
  start({.idle_timeout = 1s});
  RawClient dripper(port());
  EXPECT_THAT(dripper.reply(), StartsWith("220 "));
  // One byte every 100 ms, never a line end: bytes alone are not progress.
  std::string reply = "<timeout>";
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (reply == "<timeout>" && std::chrono::steady_clock::now() < give_up) {
    dripper.send("N");
    reply = dripper.reply(100ms);
  }
  EXPECT_THAT(reply, StartsWith("421 4.4.2"));
  EXPECT_TRUE(dripper.wait_closed());
  // Others are served meanwhile and after.
  auto client = greeted_client();
  EXPECT_THAT(client->command("NOOP"), StartsWith("250 "));
}

TEST_F(SmtpServerTest, SurvivesGarbageAndClosesAfterTooManyErrors) {
  start({.max_errors = 5});
  {
    RawClient client(port());
    client.reply();
    std::string garbage;
    for (int i = 0; i < 20000; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) % 256));
    client.send(garbage + "\r\n\x00\x01\x02\r\n\xff\xfe\r\n");
    std::string replies;
    for (std::string reply = client.reply(); reply != "<closed>" && reply != "<timeout>";
         reply = client.reply()) {
      replies += reply;
    }
    EXPECT_THAT(replies, HasSubstr("421 4.7.0"));
    EXPECT_TRUE(client.wait_closed());
  }
  // The server still serves others.
  auto client = greeted_client();
  EXPECT_THAT(client->command("NOOP"), StartsWith("250 "));
}

// Sessions in the middle of a command are not idle: at the cap a newcomer
// is refused, as before idle sessions could make room.
TEST_F(SmtpServerTest, Answers421OverTheConnectionLimitWhenNoSessionIsIdle) {
  start({.max_connections = 2});
  RawClient first(port());
  RawClient second(port());
  EXPECT_THAT(first.reply(), StartsWith("220 "));
  EXPECT_THAT(second.reply(), StartsWith("220 "));
  first.send("HELO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<box@example.com>\r\nDATA\r\n");
  second.send("HELO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<box@example.com>\r\nDATA\r\n");
  for (RawClient* c : {&first, &second}) {
    std::string got;
    while (got.find("354") == std::string::npos) {
      const std::string r = c->reply();
      ASSERT_NE(r, "<closed>");
      ASSERT_NE(r, "<timeout>");
      got += r;
    }
  }
  RawClient third(port());
  EXPECT_THAT(third.reply(), StartsWith("421 4.3.2"));
  EXPECT_TRUE(third.wait_closed());
}

// An idle session makes room for a newcomer and is told why.
TEST_F(SmtpServerTest, AnIdleSessionMakesRoomAtTheConnectionLimit) {
  start({.max_connections = 2});
  RawClient first(port());
  RawClient second(port());
  EXPECT_THAT(first.reply(), StartsWith("220 "));
  EXPECT_THAT(second.reply(), StartsWith("220 "));
  RawClient third(port());
  EXPECT_THAT(third.reply(), StartsWith("220 "));
  std::string told;
  for (std::string r = first.reply(); r != "<closed>" && r != "<timeout>"; r = first.reply())
    told += r;
  for (std::string r = second.reply(); r != "<closed>" && r != "<timeout>"; r = second.reply())
    told += r;
  EXPECT_THAT(told, HasSubstr("421 4.4.2"));
  EXPECT_THAT(told, HasSubstr("idle connection"));
}

// --- stop -------------------------------------------------------------------------

TEST_F(SmtpServerTest, StopClosesIdleSessionsAndFinishesAMessageInData) {
  start();
  auto idle = greeted_client();
  auto busy = greeted_client();
  busy->command("MAIL FROM:<a@b.test>");
  busy->command("RCPT TO:<box@example.com>");
  busy->command("DATA");
  busy->send("Subject: in flight\r\n\r\nfirst half\r\n");
  server_->stop();
  EXPECT_THAT(idle->reply(), StartsWith("421 4.3.2"));
  EXPECT_TRUE(idle->wait_closed());
  busy->send("second half\r\n.\r\n");
  EXPECT_THAT(busy->reply(), StartsWith("250 2.0.0"));
  EXPECT_THAT(busy->reply(), StartsWith("421 4.3.2"));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  EXPECT_THAT(sink_.deliveries().at(0).raw, HasSubstr("first half\r\nsecond half\r\n"));
  // No new sessions once stopped: refused, or told 421 if accepted just before.
  try {
    RawClient late(port());
    EXPECT_THAT(late.reply(), ::testing::AnyOf(StartsWith("421 "), "<closed>"));
  } catch (const std::runtime_error&) {
  }
}

// --- real clients: swaks ------------------------------------------------------------

class TempFile {
 public:
  TempFile(const std::string& name, const std::string& contents)
      : path_(std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "-" + name)) {
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST_F(SmtpServerTest, SwaksDeliversAMessageWithAnAttachment) {
  start();
  std::string bytes;
  for (int i = 0; i < 3000; ++i) bytes.push_back(static_cast<char>(i % 256));
  const TempFile file("report.bin", bytes);
  const auto result = test::run_process(
      {"swaks", "--server", "127.0.0.1:" + std::to_string(port()), "--to", "box@example.com",
       "--from", "a@b.test", "--header", "Subject: Swaks with attachment", "--body",
       "Hello from swaks", "--attach-type", "application/octet-stream", "--attach",
       "@" + file.path()},
      {.timeout = 60s});
  ASSERT_TRUE(result.ok()) << result.describe();
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  const auto parsed = tempmail::detail::parse_message(sink_.deliveries().at(0).raw);
  EXPECT_EQ(parsed.subject, "Swaks with attachment");
  EXPECT_THAT(parsed.text, HasSubstr("Hello from swaks"));
  ASSERT_EQ(parsed.attachments.size(), 1u);
  EXPECT_THAT(parsed.attachments[0].name, HasSubstr("report.bin"));
  EXPECT_EQ(parsed.attachments[0].data, bytes);
}

TEST_F(SmtpServerTest, SwaksPipelinesAndKeepsALeadingDotLine) {
  start();
  const auto result = test::run_process(
      {"swaks", "--pipeline", "--server", "127.0.0.1:" + std::to_string(port()), "--to",
       "box@example.com,other@example.com", "--from", "a@b.test", "--header", "Subject: pipelined",
       "--body", ".starts with a dot\n..two dots"},
      {.timeout = 60s});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_THAT(result.out, HasSubstr("PIPELINING"));
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  const Delivery delivery = sink_.deliveries().at(0);
  EXPECT_THAT(delivery.recipients, ElementsAre("box@example.com", "other@example.com"));
  const auto parsed = tempmail::detail::parse_message(delivery.raw);
  EXPECT_THAT(parsed.text, HasSubstr(".starts with a dot\n..two dots"));
}

TEST_F(SmtpServerTest, SwaksSeesTheSizeRejection) {
  start({.max_message_bytes = 2000});
  const auto result =
      test::run_process({"swaks", "--server", "127.0.0.1:" + std::to_string(port()), "--to",
                         "box@example.com", "--from", "a@b.test", "--body", std::string(5000, 'z')},
                        {.timeout = 60s});
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.out, HasSubstr("552 5.3.4"));
  EXPECT_TRUE(sink_.deliveries().empty());
}

// --- real clients: Python smtplib ----------------------------------------------------

boost::json::object run_smtp_client(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/python3", TEMPMAIL_SMTP_CLIENT_PY};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto result = test::run_process(argv, {.timeout = 120s});
  if (!result.ok()) throw std::runtime_error("smtp_client.py failed: " + result.describe());
  return boost::json::parse(result.out).as_object();
}

TEST_F(SmtpServerTest, SmtplibGetsRefusedRecipientsAndTheOthersGetTheMessage) {
  start();
  const auto answer =
      run_smtp_client({"send", "--port", std::to_string(port()), "--sender", "a@b.test", "--to",
                       "box@example.com", "--to", "nobody@example.com", "--to", "third@example.com",
                       "--subject", "Gr\u00fc\u00dfe from smtplib", "--body", "hello\n"});
  const auto& refused = answer.at("refused").as_object();
  ASSERT_EQ(refused.size(), 1u) << boost::json::serialize(answer);
  EXPECT_EQ(refused.at("nobody@example.com").as_array().at(0).as_int64(), 550);
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  const Delivery delivery = sink_.deliveries().at(0);
  EXPECT_THAT(delivery.recipients, ElementsAre("box@example.com", "third@example.com"));
  EXPECT_EQ(tempmail::detail::parse_message(delivery.raw).subject, "Gr\u00fc\u00dfe from smtplib");
}

// --- AUTH with real clients: any user name and password is accepted ----------------

TEST_F(SmtpServerTest, SmtplibLogsInWithWhatItPicksAndDelivers) {
  start();
  const auto answer =
      run_smtp_client({"send", "--port", std::to_string(port()), "--sender", "app@b.test", "--to",
                       "box@example.com", "--user", "app", "--password", "any-password"});
  EXPECT_EQ(answer.at("login").as_array().at(0).as_int64(), 235) << boost::json::serialize(answer);
  ASSERT_TRUE(sink_.wait_for_deliveries(1));
  EXPECT_THAT(sink_.deliveries().at(0).raw, HasSubstr("with ESMTPA"));
  EXPECT_THAT(sink_.deliveries().at(0).raw, Not(HasSubstr("any-password")));
}

TEST_F(SmtpServerTest, SmtplibLogsInWithEachMechanism) {
  start();
  for (const std::string mechanism : {"PLAIN", "LOGIN"}) {
    const auto answer = run_smtp_client({"send", "--port", std::to_string(port()), "--sender",
                                         "app@b.test", "--to", "box@example.com", "--user", "app",
                                         "--password", "s3cret", "--mechanism", mechanism});
    EXPECT_EQ(answer.at("login").as_array().at(0).as_int64(), 235) << mechanism;
  }
  ASSERT_TRUE(sink_.wait_for_deliveries(2));
}

TEST_F(SmtpServerTest, SwaksAuthenticatesWithPlainAndLogin) {
  start();
  for (const std::string mechanism : {"PLAIN", "LOGIN"}) {
    const auto result = test::run_process(
        {"swaks", "--server", "127.0.0.1:" + std::to_string(port()), "--to", "box@example.com",
         "--from", "app@b.test", "--auth", mechanism, "--auth-user", "app", "--auth-password",
         "s3cret", "--header", "Subject: swaks " + mechanism},
        {.timeout = 60s});
    ASSERT_TRUE(result.ok()) << result.describe();
    EXPECT_THAT(result.out, HasSubstr("235 2.7.0 Authentication successful")) << mechanism;
  }
  ASSERT_TRUE(sink_.wait_for_deliveries(2));
  for (const auto& delivery : sink_.deliveries()) {
    EXPECT_THAT(delivery.raw, HasSubstr("with ESMTPA"));
  }
}

TEST_F(SmtpServerTest, CurlAuthenticatesWithUserAndPassword) {
  start();
  const TempFile message("curl.eml", "Subject: from curl\r\n\r\nhello\r\n");
  // curl's own choice, then PLAIN with an initial response (--sasl-ir).
  const std::vector<std::vector<std::string>> variants = {
      {}, {"--login-options", "AUTH=PLAIN", "--sasl-ir"}, {"--login-options", "AUTH=LOGIN"}};
  for (const auto& extra : variants) {
    std::vector<std::string> argv = {"curl",          "--silent",
                                     "--show-error",  "--verbose",
                                     "--url",         "smtp://127.0.0.1:" + std::to_string(port()),
                                     "--mail-from",   "app@b.test",
                                     "--mail-rcpt",   "box@example.com",
                                     "--upload-file", message.path(),
                                     "--user",        "app:s3cret"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto result = test::run_process(argv, {.timeout = 60s});
    ASSERT_TRUE(result.ok()) << result.describe();
    EXPECT_THAT(result.err, HasSubstr("235 2.7.0")) << result.describe();
  }
  ASSERT_TRUE(sink_.wait_for_deliveries(3));
  for (const auto& delivery : sink_.deliveries()) {
    EXPECT_THAT(delivery.raw, AllOf(HasSubstr("with ESMTPA"), HasSubstr("from curl")));
  }
}

TEST_F(SmtpServerTest, ManyConcurrentSmtplibSessionsAreAllDelivered) {
  start();
  const auto answer = run_smtp_client({"concurrent", "--port", std::to_string(port()), "--to",
                                       "box@example.com", "--threads", "20", "--messages", "10"});
  EXPECT_EQ(answer.at("errors").as_array().size(), 0u) << boost::json::serialize(answer);
  EXPECT_EQ(answer.at("sent").as_int64(), 200);
  ASSERT_TRUE(sink_.wait_for_deliveries(200));
  std::set<std::string> subjects;
  for (const auto& delivery : sink_.deliveries()) {
    subjects.insert(tempmail::detail::parse_message(delivery.raw).subject);
  }
  EXPECT_EQ(subjects.size(), 200u);
}

}  // namespace
}  // namespace tempmail::local::detail
