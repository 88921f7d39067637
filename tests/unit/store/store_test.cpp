// The store on its own: mailboxes, messages, expiry, isolation between
// accounts, quota and restart, with an injected clock and real MIME parsing.
#include "local/store/store.hpp"

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>
#include <functional>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <random>
#include <thread>

#include "common/time.hpp"
#include "local/store/schema.hpp"
#include "local/store/sqlite.hpp"

namespace tempmail::local::detail {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::SizeIs;

constexpr std::string_view kAlice = "account-alice";
constexpr std::string_view kBob = "account-bob";

// 2026-06-28T09:39:08Z, the contract's sample instant.
constexpr std::int64_t kStart = 1782639548;

struct FakeClock {
  std::shared_ptr<std::atomic<std::int64_t>> seconds =
      std::make_shared<std::atomic<std::int64_t>>(kStart);
  Clock clock() const {
    return [s = seconds] { return std::chrono::sys_seconds{std::chrono::seconds{s->load()}}; };
  }
  void advance(std::chrono::seconds d) const { *seconds += d.count(); }
};

StoreOptions options(const FakeClock& clock, std::filesystem::path db = {}) {
  return StoreOptions{
      .db_path = std::move(db),
      .domains = {DomainConfig{"example.com", "free"}, DomainConfig{"example.org", "free"}},
      .mailbox_ttl = 600s,
      .monthly_quota = 5,
      .parse = &tempmail::detail::parse_message,
      .clock = clock.clock(),
      .log = {}};
}

std::string message(std::string_view subject, std::string_view body = "Hello") {
  return "From: Example Sender <hello@example.org>\r\nTo: someone@example.com\r\nSubject: " +
         std::string(subject) +
         "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
         std::string(body) + "\r\n";
}

std::string message_with_attachment() {
  return "From: a@example.org\r\nTo: b@example.com\r\nSubject: With file\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
         "--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi</p>\r\n"
         "--XX\r\nContent-Type: text/plain; name=\"file.txt\"\r\n"
         "Content-Disposition: attachment; filename=\"file.txt\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--XX--\r\n";
}

// Delivers through the MailSink interface and waits for the durability callback.
std::error_code deliver(Store& store, std::string raw, std::vector<std::string> rcpts) {
  std::promise<std::error_code> done;
  store.deliver(std::make_shared<const std::string>(std::move(raw)),
                Envelope{.mail_from = "sender@example.org",
                         .rcpt_to = std::move(rcpts),
                         .helo = "client.example.org",
                         .client = "127.0.0.1:40000"},
                [&](std::error_code ec) { done.set_value(ec); });
  return done.get_future().get();
}

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ =
        std::filesystem::temp_directory_path() / ("tempmail-store-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(Store, CreatesRandomUnguessableMailboxAtFirstDomain) {
  FakeClock clock;
  Store store(options(clock));
  auto a = store.create_mailbox(kAlice);
  auto b = store.create_mailbox(kAlice);
  ASSERT_TRUE(a.ok());
  EXPECT_THAT(a.value.address, MatchesRegex("[a-z0-9]{10}@example\\.com"));
  EXPECT_EQ(a.value.domain, "example.com");
  EXPECT_EQ(a.value.created_at.time_since_epoch().count(), kStart);
  EXPECT_EQ(a.value.expire_at - a.value.created_at, 600s);
  EXPECT_FALSE(a.value.token.empty());
  EXPECT_NE(a.value.address, b.value.address);
  EXPECT_NE(a.value.id, b.value.id);
}

TEST(Store, SwitchMovesMailboxAndItsMessagesToNewIdAndAddress) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  ASSERT_FALSE(deliver(store, message("Before switch"), {box.address}));
  auto switched = store.switch_mailbox(kAlice, box.address, "Demo123", "EXAMPLE.org");
  ASSERT_TRUE(switched.ok()) << switched.reason;
  EXPECT_EQ(switched.value.address, "demo123@example.org");
  EXPECT_EQ(switched.value.domain, "example.org");
  EXPECT_NE(switched.value.id, box.id);
  EXPECT_EQ(switched.value.expire_at, box.expire_at);
  EXPECT_EQ(store.list_messages(kAlice, box.address).status, Status::kNotFound);
  auto list = store.list_messages(kAlice, "demo123@example.org");
  ASSERT_TRUE(list.ok());
  ASSERT_THAT(list.value.messages, SizeIs(1));
  EXPECT_EQ(list.value.messages[0].message->fields().subject, "Before switch");
  EXPECT_TRUE(store.read_message(kAlice, list.value.messages[0].message->id).ok());
}

TEST(Store, SwitchToAnAddressTakenByAnyAccountConflicts) {
  FakeClock clock;
  Store store(options(clock));
  auto bobs = store.create_mailbox(kBob).value;
  ASSERT_TRUE(store.switch_mailbox(kBob, bobs.address, "taken", "example.com").ok());
  auto alices = store.create_mailbox(kAlice).value;
  auto r = store.switch_mailbox(kAlice, alices.address, "TAKEN", "example.com");
  EXPECT_EQ(r.status, Status::kConflict);
  EXPECT_THAT(r.reason, ::testing::HasSubstr("taken@example.com"));
}

TEST(Store, SwitchRejectsInvalidUsernameAndUnknownDomain) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  EXPECT_EQ(store.switch_mailbox(kAlice, box.address, "", "example.com").status, Status::kInvalid);
  EXPECT_EQ(store.switch_mailbox(kAlice, box.address, "a b", "example.com").status,
            Status::kInvalid);
  EXPECT_EQ(store.switch_mailbox(kAlice, box.address, std::string(65, 'a'), "example.com").status,
            Status::kInvalid);
  EXPECT_EQ(store.switch_mailbox(kAlice, box.address, "ok", "elsewhere.net").status,
            Status::kInvalid);
  EXPECT_TRUE(store.switch_mailbox(kAlice, box.address, std::string(64, 'a'), "example.com").ok());
}

TEST(Store, DeleteMailboxRemovesItAndItsMessages) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  ASSERT_FALSE(deliver(store, message("Gone soon"), {box.address}));
  auto id = store.list_messages(kAlice, box.address).value.messages.at(0).message->id;
  EXPECT_EQ(store.delete_mailbox(kAlice, box.address), Status::kOk);
  EXPECT_EQ(store.list_messages(kAlice, box.address).status, Status::kNotFound);
  EXPECT_EQ(store.read_message(kAlice, id).status, Status::kNotFound);
  EXPECT_EQ(store.delete_mailbox(kAlice, box.address), Status::kNotFound);
  EXPECT_FALSE(store.accepts_recipient(box.address));
}

TEST(Store, ListsDeliveredMessagesWithDecodedFields) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  ASSERT_FALSE(deliver(store, message("=?UTF-8?B?V2VsY29tZSDinJM=?=", "Hello from the inbox."),
                       {box.address}));
  auto list = store.list_messages(kAlice, box.address);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list.value.mailbox, box.address);
  ASSERT_THAT(list.value.messages, SizeIs(1));
  const auto& v = list.value.messages[0];
  EXPECT_FALSE(v.seen);
  EXPECT_EQ(v.message->fields().subject, "Welcome \xE2\x9C\x93");
  EXPECT_EQ(v.message->fields().from_name, "Example Sender");
  EXPECT_EQ(v.message->fields().from_email, "hello@example.org");
  EXPECT_EQ(v.message->to, box.address);
  EXPECT_FALSE(v.message->fields().html);
  EXPECT_THAT(v.message->fields().content, ::testing::HasSubstr("Hello from the inbox."));
  EXPECT_THAT(v.message->id, MatchesRegex("[A-Za-z0-9]{46}"));
  EXPECT_EQ(v.message->received_at.time_since_epoch().count(), kStart);
}

TEST(Store, ReadingMarksMessageSeen) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  ASSERT_FALSE(deliver(store, message("Read me"), {box.address}));
  auto id = store.list_messages(kAlice, box.address).value.messages.at(0).message->id;
  auto read = store.read_message(kAlice, id);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read.value.seen);
  EXPECT_TRUE(store.list_messages(kAlice, box.address).value.messages.at(0).seen);
}

TEST(Store, KeepsAttachmentsAndFindsThemByName) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  ASSERT_FALSE(deliver(store, message_with_attachment(), {box.address}));
  auto v = store.list_messages(kAlice, box.address).value.messages.at(0);
  EXPECT_TRUE(v.message->fields().html);
  auto a = store.attachment(kAlice, v.message->id, "file.txt");
  ASSERT_TRUE(a.ok()) << a.reason;
  EXPECT_EQ(a.value.attachment().data, "hello world");
  EXPECT_EQ(a.value.attachment().content_type, "text/plain");
  EXPECT_EQ(store.attachment(kAlice, v.message->id, "other.txt").status, Status::kNotFound);
}

TEST(Store, ExpiredMailboxIsNotFoundEverywhereAndRefusesMail) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  ASSERT_FALSE(deliver(store, message("Before expiry"), {box.address}));
  auto id = store.list_messages(kAlice, box.address).value.messages.at(0).message->id;
  clock.advance(600s);
  EXPECT_EQ(store.list_messages(kAlice, box.address).status, Status::kNotFound);
  EXPECT_EQ(store.read_message(kAlice, id).status, Status::kNotFound);
  EXPECT_EQ(store.delete_message(kAlice, id), Status::kNotFound);
  EXPECT_EQ(store.delete_mailbox(kAlice, box.address), Status::kNotFound);
  EXPECT_EQ(store.switch_mailbox(kAlice, box.address, "later", "example.com").status,
            Status::kNotFound);
  EXPECT_FALSE(store.accepts_recipient(box.address));
  store.purge_expired();
  EXPECT_EQ(store.stats().mailboxes, 0u);
  EXPECT_EQ(store.stats().messages, 0u);
}

TEST(Store, AnotherAccountsMailboxesAndMessagesAreNotFound) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  ASSERT_FALSE(deliver(store, message_with_attachment(), {box.address}));
  auto id = store.list_messages(kAlice, box.address).value.messages.at(0).message->id;
  EXPECT_EQ(store.list_messages(kBob, box.address).status, Status::kNotFound);
  EXPECT_EQ(store.read_message(kBob, id).status, Status::kNotFound);
  EXPECT_EQ(store.attachment(kBob, id, "file.txt").status, Status::kNotFound);
  EXPECT_EQ(store.delete_message(kBob, id), Status::kNotFound);
  EXPECT_EQ(store.delete_mailbox(kBob, box.address), Status::kNotFound);
  EXPECT_EQ(store.switch_mailbox(kBob, box.address, "stolen", "example.com").status,
            Status::kNotFound);
  EXPECT_EQ(store.inject(kBob, box.address, message("x")).status, Status::kNotFound);
  // Untouched for its owner, and still unseen.
  auto list = store.list_messages(kAlice, box.address);
  ASSERT_TRUE(list.ok());
  ASSERT_THAT(list.value.messages, SizeIs(1));
  EXPECT_FALSE(list.value.messages[0].seen);
}

TEST(Store, DeliverySkipsUnknownRecipientsAndStoresOneCopyPerMailbox) {
  FakeClock clock;
  Store store(options(clock));
  auto a = store.create_mailbox(kAlice).value;
  auto b = store.create_mailbox(kBob).value;
  ASSERT_FALSE(deliver(store, message("To both"), {a.address, "nobody@example.com", b.address}));
  auto la = store.list_messages(kAlice, a.address).value.messages;
  auto lb = store.list_messages(kBob, b.address).value.messages;
  ASSERT_THAT(la, SizeIs(1));
  ASSERT_THAT(lb, SizeIs(1));
  EXPECT_NE(la[0].message->id, lb[0].message->id);
  EXPECT_EQ(lb[0].message->to, b.address);
}

// Delivers `each` messages ("m<thread>-<i>") from each of `threads` threads at
// once; returns how many deliveries failed.
int deliver_concurrently(Store& store, const std::string& address, int threads, int each) {
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < each; ++i)
        if (deliver(store, message("m" + std::to_string(t) + "-" + std::to_string(i)), {address}))
          ++failures;
    });
  for (auto& w : workers) w.join();
  return failures;
}

TEST(Store, ConcurrentDeliveriesAreAllCommittedInArrivalOrder) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  constexpr int kThreads = 8, kEach = 50;
  EXPECT_EQ(deliver_concurrently(store, box.address, kThreads, kEach), 0);
  auto list = store.list_messages(kAlice, box.address).value.messages;
  ASSERT_THAT(list, SizeIs(kThreads * kEach));
  EXPECT_TRUE(std::is_sorted(list.begin(), list.end(), [](const auto& x, const auto& y) {
    return x.message->seq < y.message->seq;
  }));
}

TEST(Store, MessagesAfterReturnsOnlyNewerMessages) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  ASSERT_FALSE(deliver(store, message("first"), {box.address}));
  auto first = store.list_messages(kAlice, box.address).value.messages.at(0).message;
  EXPECT_THAT(store.messages_after(kAlice, box.address, first->seq).value.messages, IsEmpty());
  ASSERT_FALSE(deliver(store, message("second"), {box.address}));
  auto newer = store.messages_after(kAlice, box.address, first->seq).value.messages;
  ASSERT_THAT(newer, SizeIs(1));
  EXPECT_EQ(newer[0].message->fields().subject, "second");
}

TEST(Store, WatcherIsWokenAfterTheCommitThatAddsAMessage) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  std::promise<std::size_t> woken;
  auto id = store.watch(kAlice, box.address, [&] {
    // Woken after the commit: the message is already visible.
    woken.set_value(store.list_messages(kAlice, box.address).value.messages.size());
  });
  ASSERT_NE(id, 0u);
  EXPECT_EQ(store.watch(kBob, box.address, [] {}), 0u);
  ASSERT_FALSE(deliver(store, message("wake up"), {box.address}));
  auto f = woken.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), 1u);
}

TEST(Store, InjectStoresThroughTheDeliveryPathAndReturnsTheId) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  auto id = store.inject(kAlice, box.address, message("Injected"));
  ASSERT_TRUE(id.ok()) << id.reason;
  auto read = store.read_message(kAlice, id.value);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read.value.message->fields().subject, "Injected");
}

// A parser that records which thread parsed which subject, and holds any
// message whose subject starts with "Slow" until release() (or destruction).
class RecordingParser {
 public:
  RecordingParser() : released_(release_.get_future().share()) {}
  ~RecordingParser() { release(); }
  StoreOptions options(const FakeClock& clock) {
    auto opts = ::tempmail::local::detail::options(clock);
    opts.parse = parser();
    return opts;
  }
  Parser parser() {
    return [this](std::string_view raw) {
      auto parsed = tempmail::detail::parse_message(raw);
      if (parsed.subject.starts_with("Slow")) released_.wait();
      std::lock_guard lock(mu_);
      parsed_by_.emplace_back(parsed.subject, std::this_thread::get_id());
      return parsed;
    };
  }
  void release() {
    if (!released_flag_.exchange(true)) release_.set_value();
  }
  std::vector<std::pair<std::string, std::thread::id>> parsed_by() {
    std::lock_guard lock(mu_);
    return parsed_by_;
  }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_;
  std::atomic<bool> released_flag_{false};
  std::mutex mu_;
  std::vector<std::pair<std::string, std::thread::id>> parsed_by_;
};

TEST(Store, ParsesEachDeliveryOnceAfterItsCommitHoweverManyMailboxesItReaches) {
  FakeClock clock;
  RecordingParser parser;
  Store store(parser.options(clock));
  auto a = store.create_mailbox(kAlice).value;
  auto b = store.create_mailbox(kAlice).value;
  auto c = store.create_mailbox(kBob).value;
  ASSERT_FALSE(deliver(store, message("To three"), {a.address, b.address, c.address}));

  // Nobody reads the fields: the store's parser thread parses them.
  auto fields = store.list_messages(kAlice, a.address).value.messages.at(0).message->lazy_fields;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!fields->parsed() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(fields->parsed()) << "the parser thread did not parse the message within 10 s";
  ASSERT_THAT(parser.parsed_by(), SizeIs(1));
  EXPECT_NE(parser.parsed_by()[0].second, std::this_thread::get_id());

  // Every mailbox's copy shows it, and nothing is parsed again.
  EXPECT_EQ(store.list_messages(kAlice, a.address).value.messages.at(0).message->fields().subject,
            "To three");
  EXPECT_EQ(store.list_messages(kAlice, b.address).value.messages.at(0).message->fields().subject,
            "To three");
  EXPECT_EQ(store.list_messages(kBob, c.address).value.messages.at(0).message->fields().subject,
            "To three");
  EXPECT_THAT(parser.parsed_by(), SizeIs(1));
}

TEST(Store, AMessageIsCompleteForItsFirstReaderTheMomentItsDeliveryIsAcknowledged) {
  FakeClock clock;
  RecordingParser parser;
  Store store(parser.options(clock));
  auto box = store.create_mailbox(kAlice).value;
  // The acknowledgement does not wait for the parse: "Slow" cannot be parsed yet.
  ASSERT_FALSE(deliver(store, message("Slow one"), {box.address}));
  ASSERT_FALSE(deliver(store, message_with_attachment(), {box.address}));
  auto list = store.list_messages(kAlice, box.address).value.messages;
  ASSERT_THAT(list, SizeIs(2));

  // The parser thread is held by "Slow one": the reader parses the second itself.
  const auto& second = *list[1].message;
  EXPECT_EQ(second.fields().subject, "With file");
  EXPECT_TRUE(second.fields().html);
  EXPECT_EQ(store.attachment(kAlice, second.id, "file.txt").value.attachment().data,
            "hello world");
  auto parsed = parser.parsed_by();
  ASSERT_THAT(parsed, SizeIs(1));
  EXPECT_EQ(parsed[0].first, "With file");
  EXPECT_EQ(parsed[0].second, std::this_thread::get_id());

  parser.release();
  EXPECT_EQ(list[0].message->fields().subject, "Slow one");
  EXPECT_THAT(parser.parsed_by(), SizeIs(2));
}

TEST(Store, AMessageWhoseTextCannotBeParsedIsListedAndTheLogSaysWhy) {
  FakeClock clock;
  auto opts = options(clock);
  opts.parse = [](std::string_view) -> tempmail::detail::ParsedMessage {
    throw std::runtime_error("parser out of memory");
  };
  std::mutex mu;
  std::vector<std::string> log;
  opts.log = [&](std::string_view line) {
    std::lock_guard lock(mu);
    log.emplace_back(line);
  };
  {
    Store store(opts);
    auto box = store.create_mailbox(kAlice).value;
    ASSERT_FALSE(deliver(store, message("Unparseable"), {box.address}));
    auto list = store.list_messages(kAlice, box.address).value.messages;
    ASSERT_THAT(list, SizeIs(1));
    EXPECT_EQ(list[0].message->to, box.address);
    EXPECT_EQ(list[0].message->fields().subject, "");
  }
  std::lock_guard lock(mu);
  ASSERT_THAT(log, SizeIs(1));
  EXPECT_THAT(log[0], ::testing::HasSubstr("parser out of memory"));
}

TEST(Store, QuotaCountsPerAccountAndResetsAtStartOfNextMonth) {
  FakeClock clock;
  Store store(options(clock));
  EXPECT_EQ(store.quota(kAlice).used, 0);
  store.count_call(kAlice);
  auto q = store.count_call(kAlice);
  EXPECT_EQ(q.used, 2);
  EXPECT_EQ(q.remaining(), 3);
  EXPECT_EQ(q.limit, 5);
  EXPECT_EQ(tempmail::detail::format_iso8601(q.reset), "2026-07-01T00:00:00+00:00");
  EXPECT_EQ(store.quota(kBob).used, 0);
  for (int i = 0; i < 3; ++i) store.count_call(kAlice);
  EXPECT_TRUE(store.quota(kAlice).exhausted());
  clock.advance(std::chrono::days{3});  // 2026-07-01: a new month
  EXPECT_EQ(store.quota(kAlice).used, 0);
}

TEST(Store, RestartWithFileDatabaseKeepsMailboxesMessagesSeenFlagsAndQuota) {
  TempDir dir;
  FakeClock clock;
  const auto db = dir.path() / "store.db";
  MailboxRecord box;
  std::string seen_id, unseen_id;
  struct Fields {
    std::string subject, from_name, from_email, to;
    std::chrono::sys_seconds received_at;
    bool html;
    std::string content;
    std::vector<StoredAttachment> attachments;
    Fields() = default;
    Fields(const StoredMessage& m)  // NOLINT: a snapshot of the fields
        : subject(m.fields().subject),
          from_name(m.fields().from_name),
          from_email(m.fields().from_email),
          to(m.to),
          received_at(m.received_at),
          html(m.fields().html),
          content(m.fields().content),
          attachments(m.fields().attachments) {}
  };
  std::array<Fields, 2> before;
  {
    Store store(options(clock, db));
    box = store.create_mailbox(kAlice).value;
    ASSERT_FALSE(deliver(store, message_with_attachment(), {box.address}));
    ASSERT_FALSE(deliver(store, message("Second"), {box.address}));
    auto list = store.list_messages(kAlice, box.address).value.messages;
    seen_id = list.at(0).message->id;
    unseen_id = list.at(1).message->id;
    before = {*list.at(0).message, *list.at(1).message};
    ASSERT_TRUE(store.read_message(kAlice, seen_id).ok());
    store.count_call(kAlice);
  }
  Store store(options(clock, db));
  auto list = store.list_messages(kAlice, box.address);
  ASSERT_TRUE(list.ok());
  ASSERT_THAT(list.value.messages, SizeIs(2));
  // What the raw text says is parsed from it again: the same as at delivery.
  for (std::size_t i = 0; i < 2; ++i) {
    const StoredMessage& m = *list.value.messages[i].message;
    SCOPED_TRACE(i);
    EXPECT_EQ(m.fields().subject, before[i].subject);
    EXPECT_EQ(m.fields().from_name, before[i].from_name);
    EXPECT_EQ(m.fields().from_email, before[i].from_email);
    EXPECT_EQ(m.to, before[i].to);
    EXPECT_EQ(m.received_at, before[i].received_at);
    EXPECT_EQ(m.fields().html, before[i].html);
    EXPECT_EQ(m.fields().content, before[i].content);
    EXPECT_EQ(m.fields().attachments.size(), before[i].attachments.size());
  }
  EXPECT_EQ(list.value.messages[1].message->fields().subject, "Second");
  EXPECT_EQ(list.value.messages[0].message->id, seen_id);
  EXPECT_TRUE(list.value.messages[0].seen);
  EXPECT_FALSE(list.value.messages[1].seen);
  EXPECT_EQ(store.attachment(kAlice, seen_id, "file.txt").value.attachment().data, "hello world");
  EXPECT_EQ(store.quota(kAlice).used, 1);
  EXPECT_TRUE(store.accepts_recipient(box.address));
  // New messages continue the sequence.
  ASSERT_FALSE(deliver(store, message("Third"), {box.address}));
  auto all = store.list_messages(kAlice, box.address).value.messages;
  ASSERT_THAT(all, SizeIs(3));
  EXPECT_GT(all[2].message->seq, all[1].message->seq);
  // Ids are never reused after a restart.
  EXPECT_GT(store.create_mailbox(kAlice).value.id, box.id);
}

// Deliveries commit on the caller's thread when they can and through the
// writer when another commit runs: both paths together lose nothing.
TEST(Store, ConcurrentDeliveriesToAFileDatabaseAllSurviveRestart) {
  TempDir dir;
  FakeClock clock;
  const auto db = dir.path() / "store.db";
  constexpr int kThreads = 8, kEach = 25;
  MailboxRecord box;
  {
    Store store(options(clock, db));
    box = store.create_mailbox(kAlice).value;
    ASSERT_EQ(deliver_concurrently(store, box.address, kThreads, kEach), 0);
  }
  Store store(options(clock, db));
  auto list = store.list_messages(kAlice, box.address).value.messages;
  ASSERT_THAT(list, SizeIs(kThreads * kEach));
  EXPECT_TRUE(std::is_sorted(list.begin(), list.end(), [](const auto& x, const auto& y) {
    return x.message->seq < y.message->seq;
  }));
}

// A message's raw text is written once, to the raw log beside the database,
// however many mailboxes it reaches; the rows point into it.
TEST(Store, WritesARawTextOnceToTheRawLogBesideTheDatabase) {
  TempDir dir;
  FakeClock clock;
  const auto db = dir.path() / "store.db";
  const std::string raw = message("To both", "Same bytes");
  MailboxRecord a, b;
  {
    Store store(options(clock, db));
    a = store.create_mailbox(kAlice).value;
    b = store.create_mailbox(kBob).value;
    ASSERT_FALSE(deliver(store, raw, {a.address, b.address}));
  }
  const auto raw_dir = Store::raw_log_directory(db);
  EXPECT_EQ(raw_dir, dir.path() / "store.db-raw");
  // Once, framed by its journal record (journal.hpp), whatever the mailboxes.
  std::string written;
  for (const auto& f : std::filesystem::directory_iterator(raw_dir)) {
    std::ifstream in(f.path(), std::ios::binary);
    written.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto first = written.find(raw);
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(written.find(raw, first + 1), std::string::npos);
  // + one header: two copies with their mailboxes, and the envelope.
  EXPECT_LT(written.size(), raw.size() + 2 * 256 + 128);
  Store store(options(clock, db));
  EXPECT_EQ(store.list_messages(kAlice, a.address).value.messages.at(0).message->fields().subject,
            "To both");
  EXPECT_EQ(store.list_messages(kBob, b.address).value.messages.at(0).message->fields().content,
            "Same bytes\n");
}

// Segments whose messages are all gone are deleted; live ones stay.
TEST(Store, DeletesRawSegmentsNoMessageRefersTo) {
  TempDir dir;
  FakeClock clock;
  const auto db = dir.path() / "store.db";
  auto opts = [&] {
    auto o = options(clock, db);
    o.raw_segment_bytes = 1;  // a segment per delivery
    return o;
  };
  MailboxRecord a, b;
  {
    Store store(opts());
    a = store.create_mailbox(kAlice).value;
    b = store.create_mailbox(kAlice).value;
    for (int i = 0; i < 3; ++i) ASSERT_FALSE(deliver(store, message("A"), {a.address}));
    ASSERT_FALSE(deliver(store, message("B"), {b.address}));
    ASSERT_EQ(store.delete_mailbox(kAlice, a.address), Status::kOk);
  }
  auto count = [&] {
    std::size_t n = 0;
    for (const auto& f : std::filesystem::directory_iterator(Store::raw_log_directory(db)))
      n += f.path().extension() == ".raw";
    return n;
  };
  EXPECT_EQ(count(), 4u);
  Store store(opts());  // collects on open (and every few seconds while running)
  EXPECT_EQ(count(), 2u);  // B's, and the (empty) one this store appends to
  ASSERT_THAT(store.list_messages(kAlice, b.address).value.messages, SizeIs(1));
  EXPECT_EQ(store.list_messages(kAlice, b.address).value.messages[0].message->fields().subject, "B");
}

// A raw file lost outside the server (deleted, truncated) does not lose the
// message's row: it is listed with what the row says, and the log says why.
TEST(Store, AMessageWhoseRawTextIsMissingIsStillListedAndTheLogSaysWhy) {
  TempDir dir;
  FakeClock clock;
  const auto db = dir.path() / "store.db";
  MailboxRecord box;
  {
    Store store(options(clock, db));
    box = store.create_mailbox(kAlice).value;
    ASSERT_FALSE(deliver(store, message("Lost"), {box.address}));
  }
  for (const auto& f : std::filesystem::directory_iterator(Store::raw_log_directory(db)))
    std::filesystem::resize_file(f.path(), 0);
  std::vector<std::string> log;
  auto o = options(clock, db);
  o.log = [&](std::string_view line) { log.emplace_back(line); };
  Store store(o);
  auto list = store.list_messages(kAlice, box.address).value.messages;
  ASSERT_THAT(list, SizeIs(1));
  EXPECT_EQ(list[0].message->to, box.address);
  ASSERT_THAT(log, SizeIs(1));
  EXPECT_THAT(log[0], ::testing::AllOf(::testing::HasSubstr(list[0].message->id),
                                       ::testing::HasSubstr("store.db-raw"),
                                       ::testing::HasSubstr("ends before byte")));
}

// --- the journal: acknowledged before its rows reach SQLite -----------------

// Runs `child` in a forked process that then dies by SIGKILL, as kill -9
// leaves it: no flush (`child` must leave its Store undestroyed: `*new
// Store`). True when it got that far.
bool in_killed_process(const std::function<bool()>& child) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    bool ok = false;
    try {
      ok = child();
    } catch (...) {
    }
    if (ok) ::kill(::getpid(), SIGKILL);
    ::_exit(1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// A store that writes no row before something else needs the database.
StoreOptions rows_held_back(const FakeClock& clock, const std::filesystem::path& db) {
  auto o = options(clock, db);
  o.journal_apply_rows = 1000000;
  o.journal_apply_after = std::chrono::hours(1);
  return o;
}

struct LogLines {
  std::mutex mu;
  std::vector<std::string> lines;
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mu);
      lines.emplace_back(line);
    };
  }
  std::string all() {
    std::lock_guard lock(mu);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

// Alice's mailbox and one of `second`'s, made by a store that is closed again.
std::pair<MailboxRecord, MailboxRecord> two_mailboxes(const FakeClock& clock,
                                                      const std::filesystem::path& db,
                                                      std::string_view second) {
  Store store(options(clock, db));
  auto a = store.create_mailbox(kAlice).value;
  auto b = store.create_mailbox(second).value;
  return {a, b};
}

StoreOptions logged(const FakeClock& clock, const std::filesystem::path& db, LogLines& log) {
  auto o = options(clock, db);
  o.log = log.sink();
  return o;
}

std::vector<std::string> subjects(Store& store, std::string_view account, std::string_view box) {
  std::vector<std::string> out;
  for (const auto& v : store.list_messages(account, box).value.messages)
    out.push_back(v.message->fields().subject);
  return out;
}

// A file store's journal, reopened (and killed) in one directory.
class StoreJournal : public ::testing::Test {
 protected:
  TempDir dir;
  FakeClock clock;
  const std::filesystem::path db = dir.path() / "store.db";
};

TEST_F(StoreJournal, AcknowledgedMessagesWhoseRowsWereNotWrittenYetSurviveKill9) {
  const auto [a, b] = two_mailboxes(clock, db, kBob);
  ASSERT_TRUE(in_killed_process([&] {
    Store& store = *new Store(rows_held_back(clock, db));  // dies with the process
    for (int i = 0; i < 20; ++i)
      if (deliver(store, message("m" + std::to_string(i)), {a.address})) return false;
    if (deliver(store, message("both"), {a.address, b.address})) return false;
    return store.stats().unapplied == 22;  // every row still only in the journal
  }));
  LogLines log;
  Store store(logged(clock, db, log));
  const auto got = subjects(store, kAlice, a.address);
  ASSERT_THAT(got, SizeIs(21));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i], "m" + std::to_string(i));
  EXPECT_EQ(got[20], "both");
  EXPECT_THAT(subjects(store, kBob, b.address), ElementsAre("both"));
  EXPECT_THAT(log.all(), ::testing::HasSubstr("recovered 22 acknowledged messages"));
  // New messages continue after the recovered ones.
  ASSERT_FALSE(deliver(store, message("after"), {a.address}));
  const auto list = store.list_messages(kAlice, a.address).value.messages;
  EXPECT_GT(list.back().message->seq, list[20].message->seq);
}

TEST_F(StoreJournal, WritesWaitingRowsToTheDatabaseWhileNothingElseHappens) {
  auto o = options(clock, db);
  o.journal_apply_after = 20ms;
  Store store(o);
  auto a = store.create_mailbox(kAlice).value;
  ASSERT_FALSE(deliver(store, message("one"), {a.address}));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (store.stats().unapplied > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  ASSERT_EQ(store.stats().unapplied, 0u);
  Database reader(db);
  auto rows = reader.prepare("SELECT count(*) FROM messages");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.column_int(0), 1);
}

// A long-poll cursor (the seq of the last message seen) must not skip a
// message made after a restart that followed deleting the newest ones.
TEST_F(StoreJournal, NeverHandsOutASeqAgainAfterTheNewestMessagesWereDeleted) {
  MailboxRecord a;
  std::int64_t newest = 0;
  {
    Store store(options(clock, db));
    a = store.create_mailbox(kAlice).value;
    for (const char* s : {"one", "two", "three"}) ASSERT_FALSE(deliver(store, message(s), {a.address}));
    const auto list = store.list_messages(kAlice, a.address).value.messages;
    newest = list.at(2).message->seq;
    ASSERT_EQ(store.delete_message(kAlice, list.at(1).message->id), Status::kOk);
    ASSERT_EQ(store.delete_message(kAlice, list.at(2).message->id), Status::kOk);
  }
  Store store(options(clock, db));
  ASSERT_FALSE(deliver(store, message("four"), {a.address}));
  const auto after = store.messages_after(kAlice, a.address, newest).value.messages;
  ASSERT_THAT(after, SizeIs(1));
  EXPECT_EQ(after[0].message->fields().subject, "four");
}

TEST_F(StoreJournal, StoppingWritesEveryWaitingRowSoNothingNeedsRecovering) {
  MailboxRecord a;
  {
    Store store(rows_held_back(clock, db));
    a = store.create_mailbox(kAlice).value;
    for (int i = 0; i < 5; ++i) ASSERT_FALSE(deliver(store, message("m"), {a.address}));
    EXPECT_EQ(store.stats().unapplied, 5u);
  }
  LogLines log;
  Store store(logged(clock, db, log));
  EXPECT_THAT(store.list_messages(kAlice, a.address).value.messages, SizeIs(5));
  EXPECT_EQ(log.all(), "");
}

TEST_F(StoreJournal, ARecordCutOffByACrashIsIgnoredAndTheLogSaysSo) {
  MailboxRecord a;
  {
    Store store(options(clock, db));
    a = store.create_mailbox(kAlice).value;
  }
  ASSERT_TRUE(in_killed_process([&] {
    Store& store = *new Store(rows_held_back(clock, db));  // dies with the process
    for (const char* s : {"one", "two", "three"})
      if (deliver(store, message(s), {a.address})) return false;
    return true;
  }));
  // As if the process had died inside the write of "three" (whose 250 was
  // therefore never sent): its record loses its last bytes.
  std::filesystem::path newest;
  for (const auto& f : std::filesystem::directory_iterator(Store::raw_log_directory(db)))
    if (f.file_size() > 0 && f.path() > newest) newest = f.path();
  ASSERT_FALSE(newest.empty());
  std::filesystem::resize_file(newest, std::filesystem::file_size(newest) - 5);
  {
    LogLines log;
    Store store(logged(clock, db, log));
    EXPECT_THAT(subjects(store, kAlice, a.address), ElementsAre("one", "two"));
    EXPECT_THAT(log.all(), ::testing::AllOf(::testing::HasSubstr("recovered 2 "),
                                            ::testing::HasSubstr("never acknowledged"),
                                            ::testing::HasSubstr(newest.filename().string())));
    ASSERT_FALSE(deliver(store, message("four"), {a.address}));
  }
  // Later appends never follow the cut-off bytes, and are all found.
  LogLines log;
  Store store(logged(clock, db, log));
  EXPECT_THAT(subjects(store, kAlice, a.address), ElementsAre("one", "two", "four"));
  EXPECT_EQ(log.all(), "");
}

TEST_F(StoreJournal, DeletionsFindMessagesWhoseRowsWereNotWrittenYetAndStayDeletedAfterKill9) {
  const auto [a, b] = two_mailboxes(clock, db, kAlice);
  ASSERT_TRUE(in_killed_process([&] {
    Store& store = *new Store(rows_held_back(clock, db));  // dies with the process
    for (const char* s : {"A1", "A2", "A3"})
      if (deliver(store, message(s), {a.address})) return false;
    if (deliver(store, message("B1"), {b.address})) return false;
    const auto list = store.list_messages(kAlice, a.address).value.messages;
    if (store.delete_message(kAlice, list.at(1).message->id) != Status::kOk) return false;
    if (deliver(store, message("B2"), {b.address})) return false;
    if (store.delete_mailbox(kAlice, b.address) != Status::kOk) return false;
    if (deliver(store, message("A4"), {a.address})) return false;
    return store.stats().unapplied == 1;  // A4
  }));
  Store store(options(clock, db));
  EXPECT_THAT(subjects(store, kAlice, a.address), ElementsAre("A1", "A3", "A4"));
  EXPECT_EQ(store.list_messages(kAlice, b.address).status, Status::kNotFound);
  EXPECT_EQ(store.stats().messages, 3u);
}

// What the SMTP session said survives a restart and a kill -9 alike.
TEST_F(StoreJournal, EveryMessageKeepsItsEnvelopeThroughRestartsAndKill9) {
  const auto [a, b] = two_mailboxes(clock, db, kBob);
  {
    Store store(options(clock, db));
    ASSERT_FALSE(deliver(store, message("clean"), {a.address, b.address}));
  }
  ASSERT_TRUE(in_killed_process([&] {
    Store& store = *new Store(rows_held_back(clock, db));  // dies with the process
    return !deliver(store, message("killed"), {a.address});
  }));
  Store store(options(clock, db));
  const auto list = store.list_messages(kAlice, a.address).value.messages;
  ASSERT_THAT(list, SizeIs(2));
  for (const auto& v : list) {
    const auto e = store.envelope(kAlice, v.message->id);
    ASSERT_TRUE(e.ok()) << e.reason;
    EXPECT_EQ(e.value->mail_from, "sender@example.org");
    EXPECT_EQ(e.value->helo, "client.example.org");
    EXPECT_EQ(e.value->client, "127.0.0.1:40000");
    EXPECT_FALSE(e.value->tls);
    EXPECT_FALSE(e.value->injected);
  }
  // Both recipients, as a BCC'd one would see them; another key sees nothing.
  const auto bobs = store.list_messages(kBob, b.address).value.messages.at(0).message->id;
  EXPECT_THAT(store.envelope(kBob, bobs).value->rcpt_to, ElementsAre(a.address, b.address));
  EXPECT_EQ(store.envelope(kAlice, bobs).status, Status::kNotFound);
  const auto injected = store.inject(kAlice, a.address, message("injected"));
  EXPECT_TRUE(store.envelope(kAlice, injected.value).value->injected);
}

// --- damage and loss outside the server: nothing acknowledged is lost -------

// The raw log segment files of `db`, oldest first.
std::vector<std::filesystem::path> segment_files(const std::filesystem::path& db) {
  std::vector<std::filesystem::path> out;
  for (const auto& f : std::filesystem::directory_iterator(Store::raw_log_directory(db)))
    if (f.path().extension() == ".raw") out.push_back(f.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_at(const std::filesystem::path& p, std::size_t offset, std::string_view bytes) {
  std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Alice's mailbox with messages "m0".."m{n-1}", made by a store that is closed again.
MailboxRecord mailbox_with_messages(const FakeClock& clock, const std::filesystem::path& db,
                                    int n) {
  Store store(options(clock, db));
  auto box = store.create_mailbox(kAlice).value;
  for (int i = 0; i < n; ++i)
    EXPECT_FALSE(deliver(store, message("m" + std::to_string(i)), {box.address}));
  return box;
}

std::vector<std::string> numbered(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("m" + std::to_string(i));
  return out;
}

TEST_F(StoreJournal, ASecondStoreOnTheSameDatabaseIsRefusedAndNamesTheFirst) {
  Store first(options(clock, db));
  auto box = first.create_mailbox(kAlice).value;
  ASSERT_FALSE(deliver(first, message("kept"), {box.address}));
  try {
    Store second(options(clock, db));
    FAIL() << "a second store opened a database in use";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::AllOf(
                              ::testing::HasSubstr("in use by another server"),
                              ::testing::HasSubstr("process " + std::to_string(::getpid())),
                              ::testing::HasSubstr("store.db.lock")));
  }
  // The refused one touched nothing: the first goes on, and its mail survives.
  ASSERT_FALSE(deliver(first, message("after"), {box.address}));
  first.stop();
  Store again(options(clock, db));
  EXPECT_THAT(subjects(again, kAlice, box.address), ElementsAre("kept", "after"));
}

TEST_F(StoreJournal, AnEmptiedDatabaseIsRebuiltFromTheRawLog) {
  const auto box = mailbox_with_messages(clock, db, 5);
  std::filesystem::resize_file(db, 0);  // : > store.db
  LogLines log;
  Store store(logged(clock, db, log));
  EXPECT_THAT(subjects(store, kAlice, box.address), ElementsAre("m0", "m1", "m2", "m3", "m4"));
  EXPECT_THAT(log.all(), ::testing::AllOf(::testing::HasSubstr("did not know the raw log file"),
                                          ::testing::HasSubstr("restored 5 messages and 1 mailboxes"),
                                          ::testing::HasSubstr("recovered 5 acknowledged")));
  // The mailbox is the same one, and new mail continues after the old.
  const auto list = store.list_messages(kAlice, box.address).value;
  EXPECT_EQ(store.create_mailbox(kAlice).value.id, box.id + 1);
  ASSERT_FALSE(deliver(store, message("new"), {box.address}));
  EXPECT_GT(store.list_messages(kAlice, box.address).value.messages.back().message->seq,
            list.messages.back().message->seq);
}

TEST_F(StoreJournal, ADeletedDatabaseIsRebuiltAndItsSegmentsAreNeverDeleted) {
  const auto box = mailbox_with_messages(clock, db, 3);
  std::vector<std::filesystem::path> written;
  for (const auto& f : segment_files(db))
    if (std::filesystem::file_size(f) > 0) written.push_back(f);
  ASSERT_FALSE(written.empty());
  std::filesystem::remove(db);
  {
    Store store(options(clock, db));
    EXPECT_THAT(subjects(store, kAlice, box.address), ElementsAre("m0", "m1", "m2"));
  }
  for (const auto& f : written) EXPECT_TRUE(std::filesystem::exists(f)) << f;
  Store store(options(clock, db));  // and again: now the database knows them
  EXPECT_THAT(subjects(store, kAlice, box.address), ElementsAre("m0", "m1", "m2"));
}

// kill -9, then the WAL and its index are lost: the database goes back to
// its last checkpoint, without the mailbox and the rows made since.
TEST_F(StoreJournal, ADatabaseThatLostItsWalAfterKill9GetsEveryAcknowledgedMessageBack) {
  std::string address;
  ASSERT_TRUE(in_killed_process([&] {
    Store& store = *new Store(options(clock, db));  // dies with the process
    const auto box = store.create_mailbox(kAlice).value;
    address = box.address;
    for (int i = 0; i < 4; ++i)
      if (deliver(store, message("m" + std::to_string(i)), {box.address})) return false;
    std::ofstream(dir.path() / "address") << box.address;
    return true;
  }));
  address = read_file(dir.path() / "address");
  ASSERT_FALSE(address.empty());
  std::filesystem::remove(db.string() + "-wal");
  std::filesystem::remove(db.string() + "-shm");
  LogLines log;
  Store store(logged(clock, db, log));
  EXPECT_THAT(subjects(store, kAlice, address), ElementsAre("m0", "m1", "m2", "m3"));
}

TEST_F(StoreJournal, AnOrphanedWalIsSetAsideNotAppliedToANewDatabase) {
  const auto box = mailbox_with_messages(clock, db, 2);
  std::ofstream(db.string() + "-wal", std::ios::binary) << std::string(4096, 'w');
  std::filesystem::remove(db);
  LogLines log;
  Store store(logged(clock, db, log));
  EXPECT_THAT(subjects(store, kAlice, box.address), ElementsAre("m0", "m1"));
  EXPECT_THAT(log.all(), ::testing::HasSubstr("moved aside"));
  bool kept = false;
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    kept = kept || f.path().filename().string().starts_with("store.db-wal.orphaned-");
  EXPECT_TRUE(kept);
}

// The case: 100 acknowledged messages whose rows a kill -9 kept from
// SQLite, and 64 garbage bytes in the middle of their segment.
TEST_F(StoreJournal, GarbageInTheMiddleOfTheJournalLosesOnlyTheRecordItHits) {
  const auto [a, unused] = two_mailboxes(clock, db, kBob);
  ASSERT_TRUE(in_killed_process([&] {
    Store& store = *new Store(rows_held_back(clock, db));  // dies with the process
    for (int i = 0; i < 100; ++i)
      if (deliver(store, message("m" + std::to_string(i)), {a.address})) return false;
    return store.stats().unapplied == 100;
  }));
  std::filesystem::path segment;
  for (const auto& f : segment_files(db))
    if (std::filesystem::file_size(f) > 0) segment = f;
  const std::string bytes = read_file(segment);
  const auto scan = scan_journal(bytes);
  ASSERT_THAT(scan.records, SizeIs(100));
  write_at(segment, scan.records[50].offset + 8, std::string(64, '\x5a'));
  LogLines log;
  Store store(logged(clock, db, log));
  auto expected = numbered(100);
  expected.erase(expected.begin() + 50);
  EXPECT_EQ(subjects(store, kAlice, a.address), expected);
  EXPECT_THAT(log.all(),
              ::testing::AllOf(::testing::HasSubstr("recovered 99 acknowledged"),
                               ::testing::HasSubstr("had been acknowledged and is lost"),
                               ::testing::HasSubstr(segment.filename().string())));
}

// Bytes of a message changed on disk after its 250: listed, marked damaged,
// never served as if whole; the others are untouched.
TEST_F(StoreJournal, AMessageWhoseTextChangedOnDiskIsListedAsDamagedNotServed) {
  const auto box = mailbox_with_messages(clock, db, 3);
  std::filesystem::path segment;
  for (const auto& f : segment_files(db))
    if (std::filesystem::file_size(f) > 0) segment = f;
  const std::string bytes = read_file(segment);
  const auto at = bytes.find("Subject: m1");
  ASSERT_NE(at, std::string::npos);
  write_at(segment, at, "Subject: XX");
  LogLines log;
  Store store(logged(clock, db, log));
  const auto list = store.list_messages(kAlice, box.address).value.messages;
  ASSERT_THAT(list, SizeIs(3));
  EXPECT_EQ(list[0].message->fields().subject, "m0");
  EXPECT_THAT(list[1].message->fields().damage, ::testing::HasSubstr("checksum"));
  EXPECT_EQ(list[1].message->fields().subject, "");  // not "XX"
  EXPECT_EQ(list[2].message->fields().damage, "");
  EXPECT_THAT(log.all(), ::testing::AllOf(::testing::HasSubstr(list[1].message->id),
                                          ::testing::HasSubstr("changed outside the server")));
}

TEST_F(StoreJournal, SegmentsTheDatabaseDoesNotKnowAreNeverCollected) {
  const auto box = mailbox_with_messages(clock, db, 1);
  // A segment copied in from elsewhere that holds nothing this store can read.
  const auto stranger = Store::raw_log_directory(db) / "000000000999.raw";
  std::ofstream(stranger, std::ios::binary) << "not a journal record";
  {
    LogLines log;
    Store store(logged(clock, db, log));
    ASSERT_EQ(store.delete_mailbox(kAlice, box.address), Status::kOk);
    EXPECT_THAT(log.all(), ::testing::HasSubstr("000000000999.raw"));
  }
  Store store(options(clock, db));  // collects on open
  EXPECT_TRUE(std::filesystem::exists(stranger));
}

// A version-3 file (journal records without checksums or mailboxes) whose
// server was killed before writing a row: upgraded, the row comes back from
// the old record, and the segments it had become the database's own.
TEST_F(StoreJournal, UpgradesAVersionThreeDatabaseAndReplaysItsOldRecords) {
  {
    Database raw(db);
    raw.exec("CREATE TABLE schema_version (version INTEGER NOT NULL);"
             "INSERT INTO schema_version(version) VALUES(3);");
    for (std::size_t v = 0; v < 3; ++v) raw.exec(kMigrations[v]);
    raw.prepare(
           "INSERT INTO mailboxes(id, account, address, domain, created_at, expire_at, token) "
           "VALUES(7, ?, 'old@example.com', 'example.com', ?, ?, 'token')")
        .bind(1, kAlice)
        .bind(2, kStart)
        .bind(3, kStart + 600)
        .run();
    raw.exec("INSERT INTO journal(mark_segment, mark_offset, next_seq) VALUES(1, 0, 5)");
  }
  std::filesystem::create_directories(Store::raw_log_directory(db));
  std::ofstream(Store::raw_log_directory(db) / "000000000001.raw", std::ios::binary)
      << encode_journal_v1_record(
             JournalEntry{.received_at = kStart,
                          .copies = {JournalCopy{.seq = 5, .mailbox = 7, .id = "old1",
                                                 .to = "old@example.com", .box = {}}}},
             message("From v3"));
  {
    LogLines log;
    Store store(logged(clock, db, log));
    EXPECT_THAT(subjects(store, kAlice, "old@example.com"), ElementsAre("From v3"));
    EXPECT_THAT(log.all(), ::testing::HasSubstr("recovered 1 acknowledged"));
    EXPECT_THAT(store.envelope(kAlice, "old1").reason,
                ::testing::HasSubstr("did not keep envelopes"));
  }
  Database raw(db);
  auto known = raw.prepare("SELECT count(*) FROM raw_segments WHERE segment = 1");
  ASSERT_TRUE(known.step());
  EXPECT_EQ(known.column_int(0), 1);
}

TEST(StoreFiles, APathThatCannotBeADatabaseIsRefusedAndNothingIsCreated) {
  TempDir dir;
  FakeClock clock;
  for (const std::filesystem::path& bad : {dir.path(),                    // a directory
                                          dir.path() / "missing" / "x.db",  // no such directory
                                          std::filesystem::path("/dev/null")}) {
    try {
      Store store(options(clock, bad));
      ADD_FAILURE() << "opened " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(bad.string())) << bad;
    }
    EXPECT_FALSE(std::filesystem::exists(bad.string() + "-raw")) << bad;
    EXPECT_FALSE(std::filesystem::exists(bad.string() + ".lock")) << bad;
    EXPECT_FALSE(std::filesystem::exists(bad.string() + "-journal")) << bad;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Store, StopFailsLaterDeliveries) {
  FakeClock clock;
  Store store(options(clock));
  auto box = store.create_mailbox(kAlice).value;
  store.stop();
  EXPECT_EQ(deliver(store, message("late"), {box.address}), std::errc::operation_canceled);
}

// Version 1 kept subject, sender, content and attachments in columns beside
// the raw text; version 2 parses them from it. An old file opens with every
// message, its seen flag and its attachments.
TEST(Store, UpgradesAVersionOneDatabaseKeepingEveryMessage) {
  TempDir dir;
  FakeClock clock;
  const auto db = dir.path() / "v1.db";
  {
    Database raw(db);
    raw.exec(kMigrations[0]);
    raw.exec("CREATE TABLE schema_version (version INTEGER NOT NULL);"
             "INSERT INTO schema_version(version) VALUES(1);");
    raw.prepare(
           "INSERT INTO mailboxes(id, account, address, domain, created_at, expire_at, token) "
           "VALUES(7, ?, 'old@example.com', 'example.com', ?, ?, 'token')")
        .bind(1, kAlice)
        .bind(2, kStart)
        .bind(3, kStart + 600)
        .run();
    const std::string with_file = message_with_attachment();
    const std::string plain = message("Plain one", "Your code is 123456");
    raw.prepare(
           "INSERT INTO messages(id, seq, mailbox, from_name, from_email, to_address, subject, "
           "received_at, seen, html, content, raw) VALUES(?, ?, 7, 'x', 'x', "
           "'old@example.com', 'x', ?, ?, 0, 'x', ?)")
        .bind(1, "m1")
        .bind(2, std::int64_t{1})
        .bind(3, kStart)
        .bind(4, std::int64_t{1})
        .bind_blob(5, with_file)
        .run();
    raw.prepare(
           "INSERT INTO messages(id, seq, mailbox, from_name, from_email, to_address, subject, "
           "received_at, seen, html, content, raw) VALUES(?, ?, 7, 'x', 'x', "
           "'old@example.com', 'x', ?, 0, 0, 'x', ?)")
        .bind(1, "m2")
        .bind(2, std::int64_t{2})
        .bind(3, kStart + 1)
        .bind_blob(4, plain)
        .run();
    raw.exec("INSERT INTO attachments(message_id, position, name, content_type, data) "
             "VALUES('m1', 0, 'file.txt', 'text/plain', 'hello world')");
  }
  {
    Store store(options(clock, db));
    auto list = store.list_messages(kAlice, "old@example.com");
    ASSERT_TRUE(list.ok()) << list.reason;
    ASSERT_THAT(list.value.messages, SizeIs(2));
    const auto& first = *list.value.messages[0].message;
    const auto& second = *list.value.messages[1].message;
    EXPECT_EQ(first.id, "m1");
    EXPECT_TRUE(list.value.messages[0].seen);
    EXPECT_EQ(first.fields().subject, "With file");
    EXPECT_TRUE(first.fields().html);
    EXPECT_EQ(store.attachment(kAlice, "m1", "file.txt").value.attachment().data,
              "hello world");
    EXPECT_EQ(second.id, "m2");
    EXPECT_FALSE(list.value.messages[1].seen);
    EXPECT_EQ(second.fields().subject, "Plain one");
    EXPECT_EQ(second.fields().from_email, "hello@example.org");
    EXPECT_THAT(second.fields().content, ::testing::HasSubstr("Your code is 123456"));
    EXPECT_EQ(second.received_at, std::chrono::sys_seconds{std::chrono::seconds{kStart + 1}});
    // New messages continue the sequence; deleting and reading by id still work.
    ASSERT_FALSE(deliver(store, message("Third"), {"old@example.com"}));
    EXPECT_GT(store.list_messages(kAlice, "old@example.com").value.messages.back().message->seq,
              2);
    EXPECT_EQ(store.delete_message(kAlice, "m2"), Status::kOk);
    EXPECT_TRUE(store.read_message(kAlice, "m1").ok());
  }
  Database raw(db);
  auto version = raw.prepare("SELECT version FROM schema_version");
  ASSERT_TRUE(version.step());
  EXPECT_EQ(version.column_int(0), kSchemaVersion);
  auto rows = raw.prepare("SELECT id FROM messages ORDER BY seq");
  std::vector<std::string> ids;
  while (rows.step()) ids.push_back(rows.column_text(0));
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids.front(), "m1");
}

TEST(Store, RefusesADatabaseFromANewerVersion) {
  TempDir dir;
  FakeClock clock;
  const auto db = dir.path() / "newer.db";
  { Store store(options(clock, db)); }
  {
    Database raw(db);
    raw.exec("UPDATE schema_version SET version = 99");
  }
  EXPECT_THROW(
      {
        try {
          Store store(options(clock, db));
        } catch (const std::runtime_error& e) {
          EXPECT_THAT(e.what(), ::testing::HasSubstr("schema version 99"));
          throw;
        }
      },
      std::runtime_error);
}

}  // namespace
}  // namespace tempmail::local::detail
