// Every endpoint of the client against the real embedded server over HTTP,
// with mail delivered by a real SMTP client (swaks).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/subprocess.hpp"
#include "tempmail/client.hpp"
#include "tempmail/local/server.hpp"

namespace tempmail {
namespace {

using namespace std::chrono_literals;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;

// The attachment name exercises percent-encoding: a space and a non-ASCII letter.
constexpr std::string_view kAttachmentName = "my file \xC3\xBC.txt";
constexpr std::string_view kAttachmentBytes = "attached text, 31 bytes long..";

std::string raw_message(const std::string& to) {
  // "my file ü.txt", RFC 2231-encoded; the body is base64 of kAttachmentBytes.
  return "From: Example Sender <hello@example.org>\r\n"
         "To: " +
         to +
         "\r\n"
         "Subject: Welcome to Temp Mail\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
         "\r\n"
         "--b1\r\n"
         "Content-Type: text/html; charset=utf-8\r\n"
         "\r\n"
         "<p>Hello from the inbox.</p>\r\n"
         "--b1\r\n"
         "Content-Type: text/plain\r\n"
         "Content-Disposition: attachment; filename*=UTF-8''my%20file%20%C3%BC.txt\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "\r\n"
         "YXR0YWNoZWQgdGV4dCwgMzEgYnl0ZXMgbG9uZy4u\r\n"
         "--b1--\r\n";
}

class ClientAgainstLocalServer : public ::testing::Test {
 protected:
  void deliver(const std::string& to) {
    const auto result = test::run_process(
        {"swaks", "--server", server_.smtp_host() + ":" + std::to_string(server_.smtp_port()),
         "--from", "hello@example.org", "--to", to, "--data", "-", "--hide-all"},
        {.timeout = 30s, .input = raw_message(to)});
    ASSERT_TRUE(result.ok()) << result.describe();
  }

  // The mailbox's messages once there are `n`, polling until a deadline.
  MessageList wait_for_messages(const std::string& email, std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      MessageList list = client_.messages(email);
      if (list.messages.size() >= n || std::chrono::steady_clock::now() > deadline) return list;
      std::this_thread::sleep_for(20ms);
    }
  }

  local::Server server_;
  Client client_{{.base_url = server_.base_url(), .api_key = server_.api_key()}};
};

TEST_F(ClientAgainstLocalServer, ListsThePlanDomains) {
  const DomainList plan = client_.domains();
  EXPECT_EQ(plan.requested_type, "free");
  EXPECT_THAT(plan.allowed_types, Contains("free"));
  EXPECT_THAT(plan.domains, Contains(Field(&Domain::name, "example.com")));
}

TEST_F(ClientAgainstLocalServer, CreatesAMailboxAtAnAllowedDomain) {
  const MailboxInfo box = client_.create_mailbox();
  EXPECT_THAT(box.email, HasSubstr("@example.com"));
  EXPECT_EQ(box.domain, "example.com");
  EXPECT_EQ(box.expires_in, 600s);
  EXPECT_EQ(box.expire_at - box.created_at, 600s);
  EXPECT_TRUE(client_.messages(box.email).messages.empty());
}

TEST_F(ClientAgainstLocalServer, SwitchesAMailboxToANewAddress) {
  const MailboxInfo box = client_.create_mailbox();
  const MailboxInfo moved = client_.switch_mailbox(box.email, "demo123", "example.com");
  EXPECT_EQ(moved.email, "demo123@example.com");
  EXPECT_NO_THROW((void)client_.messages("demo123@example.com"));
  EXPECT_THROW((void)client_.messages(box.email), NotFoundError);
}

TEST_F(ClientAgainstLocalServer, RejectsATakenAddressWithConflict) {
  const MailboxInfo a = client_.create_mailbox();
  const MailboxInfo b = client_.create_mailbox();
  (void)client_.switch_mailbox(a.email, "taken", "example.com");
  EXPECT_THROW((void)client_.switch_mailbox(b.email, "taken", "example.com"), ConflictError);
}

TEST_F(ClientAgainstLocalServer, DeletesAMailbox) {
  const MailboxInfo box = client_.create_mailbox();
  client_.delete_mailbox(box.email);
  EXPECT_THROW((void)client_.messages(box.email), NotFoundError);
  EXPECT_THROW(client_.delete_mailbox(box.email), NotFoundError);
}

TEST_F(ClientAgainstLocalServer, ListsReadsAndDeletesADeliveredMessage) {
  const MailboxInfo box = client_.create_mailbox();
  deliver(box.email);
  const MessageList list = wait_for_messages(box.email, 1);
  ASSERT_EQ(list.messages.size(), 1u);
  const Message& listed = list.messages[0];
  EXPECT_EQ(listed.subject, "Welcome to Temp Mail");
  EXPECT_EQ(listed.from_name, "Example Sender");
  EXPECT_EQ(listed.from_email, "hello@example.org");
  EXPECT_EQ(listed.to, box.email);
  EXPECT_TRUE(listed.html);
  EXPECT_THAT(listed.content, HasSubstr("Hello from the inbox."));
  EXPECT_FALSE(listed.is_seen);

  const Message read = client_.message(listed.id);
  EXPECT_EQ(read.id, listed.id);
  EXPECT_TRUE(read.is_seen);

  client_.delete_message(listed.id);
  EXPECT_THROW((void)client_.message(listed.id), NotFoundError);
  EXPECT_TRUE(client_.messages(box.email).messages.empty());
}

TEST_F(ClientAgainstLocalServer, DownloadsAnAttachmentWithAnEncodedName) {
  const MailboxInfo box = client_.create_mailbox();
  deliver(box.email);
  const MessageList list = wait_for_messages(box.email, 1);
  ASSERT_EQ(list.messages.size(), 1u);
  const Message& m = list.messages[0];
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].name, kAttachmentName);
  EXPECT_EQ(m.attachments[0].size, kAttachmentBytes.size());

  EXPECT_EQ(client_.attachment(m.id, kAttachmentName), kAttachmentBytes);

  std::ostringstream out;
  EXPECT_EQ(client_.download_attachment(m.id, kAttachmentName, out), kAttachmentBytes.size());
  EXPECT_EQ(out.str(), kAttachmentBytes);

  const auto file = std::filesystem::temp_directory_path() /
                    ("tempmail-client-local-" + std::to_string(server_.http_port()) + ".txt");
  EXPECT_EQ(client_.download_attachment(m.id, kAttachmentName, file), kAttachmentBytes.size());
  std::ifstream in(file, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), kAttachmentBytes);
  std::filesystem::remove(file);

  EXPECT_THROW((void)client_.attachment(m.id, "no such file.txt"), NotFoundError);
}

TEST_F(ClientAgainstLocalServer, ReadsTheQuotaHeaders) {
  (void)client_.domains();
  const std::optional<Quota> quota = client_.last_quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->limit, 50000);
  EXPECT_EQ(quota->used + quota->remaining, quota->limit);
  EXPECT_TRUE(quota->reset);
}

TEST_F(ClientAgainstLocalServer, RejectsAWrongKeyWithAuthError) {
  Client stranger({.base_url = server_.base_url(), .api_key = "wrong-key-123"});
  try {
    (void)stranger.domains();
    FAIL() << "expected AuthError";
  } catch (const AuthError& e) {
    EXPECT_EQ(e.http_status(), 401);
    EXPECT_THAT(e.what(), Not(HasSubstr("wrong-key-123")));
  }
}

TEST(ClientAgainstLocalServerKeys, DoNotSeeAnotherKeysMailbox) {
  local::Server server({.api_keys = {"key-one", "key-two"}});
  Client one({.base_url = server.base_url(), .api_key = "key-one"});
  Client two({.base_url = server.base_url(), .api_key = "key-two"});
  const MailboxInfo box = one.create_mailbox();
  EXPECT_THROW((void)two.messages(box.email), NotFoundError);
  EXPECT_THROW(two.delete_mailbox(box.email), NotFoundError);
  EXPECT_NO_THROW((void)one.messages(box.email));
}

}  // namespace
}  // namespace tempmail

namespace tempmail {
namespace {

using namespace std::chrono_literals;

class ClientLongPoll : public ::testing::Test {
 protected:
  local::Server server_;
  Client client_{{.base_url = server_.base_url(), .api_key = server_.api_key()}};
};

TEST_F(ClientLongPoll, TheLocalServerOffersIt) { EXPECT_TRUE(client_.supports_long_poll()); }

TEST_F(ClientLongPoll, AnswersEmptyWhenTheHoldPasses) {
  const MailboxInfo box = client_.create_mailbox();
  auto got = client_.long_poll(box.email, "", 50ms);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->messages.empty());
}

TEST_F(ClientLongPoll, ReturnsAMessageDeliveredWhileItHolds) {
  const MailboxInfo box = client_.create_mailbox();
  auto sender = test::start_process(
      {"swaks", "--server", server_.smtp_host() + ":" + std::to_string(server_.smtp_port()),
       "--from", "app@myapp.test", "--to", box.email, "--header", "Subject: held", "--hide-all"});
  const auto before = client_.last_quota();
  auto got = client_.long_poll(box.email, "", 20s);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->messages.size(), 1u);
  EXPECT_EQ(got->messages[0].subject, "held");
  EXPECT_TRUE(sender.get().ok());
  // Only messages newer than the cursor come back.
  auto none = client_.long_poll(box.email, got->messages[0].id, 0ms);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->messages.empty());
  // Not counted in the quota.
  EXPECT_EQ(client_.last_quota(), before);
}

}  // namespace
}  // namespace tempmail
