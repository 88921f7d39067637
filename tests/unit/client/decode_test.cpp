#include "client/decode.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/time.hpp"
#include "tempmail/errors.hpp"

namespace tempmail::detail {
namespace {

using ::testing::HasSubstr;

// The samples of API-CONTRACT.md, verbatim.
constexpr std::string_view kDomainsSample = R"({"status": true,
 "data": {"requested_type": "free",
          "allowed_types": ["free"],
          "domains": [{"domain": "example.com", "type": "Free", "custom": false}]}})";

constexpr std::string_view kCreateSample = R"({"status": true,
 "data": {"id": 2301, "email": "randombox@example.com", "domain": "example.com",
          "expire_at": "2026-06-28T09:49:08+00:00", "expires_in_seconds": 600,
          "created_at": "2026-06-28T09:39:08+00:00", "email_token": "encrypted-email-token"}})";

constexpr std::string_view kListSample = R"({"status": true, "mailbox": "randombox@example.com",
 "messages": [{"is_seen": false, "subject": "Welcome to Temp Mail",
               "from": "Example Sender", "from_email": "hello@example.org",
               "to": "randombox@example.com", "receivedAt": "2026-06-28 09:39:08",
               "id": "ap94AWDg123ELQz07vrVB9dLXlbqZM5NGwYxOJKko8n6m1",
               "html": true, "content": "<p>Hello from the inbox.</p>",
               "attachments": [{"name": "file.txt", "extension": "txt", "size": 91,
                                "url": "https://v1.tempmailg.com/api/messages/ap94AWDg123ELQz07vrVB9dLXlbqZM5NGwYxOJKko8n6m1/attachments/file.txt"}]}]})";

constexpr std::string_view kMessageSample =
    R"({"status": true, "data": {"is_seen": true, "subject": "Welcome to Temp Mail",
               "from": "Example Sender", "from_email": "hello@example.org",
               "to": "randombox@example.com", "receivedAt": "2026-06-28 09:39:08",
               "id": "ap94AWDg123ELQz07vrVB9dLXlbqZM5NGwYxOJKko8n6m1",
               "html": true, "content": "<p>Hello from the inbox.</p>",
               "attachments": []}})";

std::chrono::sys_seconds at(std::string_view iso) { return *parse_iso8601(iso); }

// The field path of the DecodeError `f` throws; fails the test when it throws nothing.
template <class F>
std::string decode_error_field(F f) {
  try {
    f();
  } catch (const DecodeError& e) {
    return e.field();
  }
  ADD_FAILURE() << "expected DecodeError";
  return "<no error>";
}

TEST(DecodeDomainList, ReadsTheContractSample) {
  const DomainList expected{.requested_type = "free",
                            .allowed_types = {"free"},
                            .domains = {{.name = "example.com", .type = "Free", .custom = false}}};
  EXPECT_EQ(decode_domain_list(kDomainsSample), expected);
}

TEST(DecodeMailboxInfo, ReadsTheContractSample) {
  const MailboxInfo expected{.id = 2301,
                             .email = "randombox@example.com",
                             .domain = "example.com",
                             .expire_at = at("2026-06-28T09:49:08+00:00"),
                             .expires_in = std::chrono::seconds(600),
                             .created_at = at("2026-06-28T09:39:08+00:00"),
                             .email_token = "encrypted-email-token"};
  EXPECT_EQ(decode_mailbox_info(kCreateSample), expected);
}

TEST(DecodeMailboxInfo, ReadsTheSwitchSample) {
  const MailboxInfo box = decode_mailbox_info(
      R"({"status": true, "data": {"id": 2302, "email": "demo123@example.com", "domain": "example.com",
          "expire_at": "2026-06-28T09:49:08+00:00", "expires_in_seconds": 600,
          "created_at": "2026-06-28T09:39:08+00:00", "email_token": "t"}})");
  EXPECT_EQ(box.id, 2302);
  EXPECT_EQ(box.email, "demo123@example.com");
}

TEST(DecodeMessageList, ReadsTheContractSample) {
  const MessageList list = decode_message_list(kListSample);
  EXPECT_EQ(list.mailbox, "randombox@example.com");
  ASSERT_EQ(list.messages.size(), 1u);
  const Message& m = list.messages[0];
  EXPECT_EQ(m.id, "ap94AWDg123ELQz07vrVB9dLXlbqZM5NGwYxOJKko8n6m1");
  EXPECT_EQ(m.subject, "Welcome to Temp Mail");
  EXPECT_EQ(m.from_name, "Example Sender");
  EXPECT_EQ(m.from_email, "hello@example.org");
  EXPECT_EQ(m.to, "randombox@example.com");
  EXPECT_EQ(m.received_at, at("2026-06-28T09:39:08Z"));
  EXPECT_FALSE(m.is_seen);
  EXPECT_TRUE(m.html);
  EXPECT_EQ(m.content, "<p>Hello from the inbox.</p>");
  const std::vector<Attachment> attachments{
      {.name = "file.txt",
       .extension = "txt",
       .size = 91,
       .url =
           "https://v1.tempmailg.com/api/messages/ap94AWDg123ELQz07vrVB9dLXlbqZM5NGwYxOJKko8n6m1/"
           "attachments/file.txt"}};
  EXPECT_EQ(m.attachments, attachments);
}

TEST(DecodeMessage, ReadsTheDataWrappedMessage) {
  const Message m = decode_message(kMessageSample);
  EXPECT_EQ(m.id, "ap94AWDg123ELQz07vrVB9dLXlbqZM5NGwYxOJKko8n6m1");
  EXPECT_TRUE(m.is_seen);
  EXPECT_TRUE(m.attachments.empty());
}

TEST(DecodeAck, AcceptsTheDeleteSamplesAndAnEmptyBody) {
  EXPECT_NO_THROW(
      decode_ack(R"({"status": true, "message": "Email has been successfully deleted."})"));
  EXPECT_NO_THROW(
      decode_ack(R"({"status": true, "message": "Message was deleted successfully."})"));
  EXPECT_NO_THROW(decode_ack(""));
}

TEST(DecodeAck, RejectsStatusFalseQuotingTheMessage) {
  try {
    decode_ack(R"({"status": false, "message": "Nope"})");
    FAIL() << "expected DecodeError";
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.field(), "status");
    EXPECT_THAT(e.what(), HasSubstr("Nope"));
  }
}

TEST(Decode, IgnoresUnknownFields) {
  const DomainList list = decode_domain_list(
      R"({"status": true, "extra": [1, {"x": null}], "data": {"requested_type": "free", "new": 1,
          "allowed_types": ["free"], "domains": [{"domain": "a.test", "type": "Free",
          "custom": true, "priority": 3}]}})");
  ASSERT_EQ(list.domains.size(), 1u);
  EXPECT_EQ(list.domains[0].name, "a.test");
  EXPECT_TRUE(list.domains[0].custom);
}

TEST(Decode, ToleratesMissingOptionalFields) {
  const MessageList list = decode_message_list(R"({"messages": [{"id": "abc"}]})");
  EXPECT_EQ(list.mailbox, "");
  ASSERT_EQ(list.messages.size(), 1u);
  EXPECT_EQ(list.messages[0], Message{.id = "abc"});

  const MailboxInfo box = decode_mailbox_info(R"({"data": {"email": "x@example.com"}})");
  EXPECT_EQ(box.email, "x@example.com");
  EXPECT_EQ(box.domain, "example.com");  // taken from the address
  EXPECT_EQ(box.id, 0);
}

TEST(Decode, TreatsNullAsAbsentForOptionalFields) {
  const Message m =
      decode_message(R"({"data": {"id": "abc", "subject": null, "attachments": null}})");
  EXPECT_EQ(m.subject, "");
  EXPECT_TRUE(m.attachments.empty());
}

TEST(Decode, NamesTheFieldPathOfAWrongType) {
  EXPECT_EQ(decode_error_field([] {
              (void)decode_domain_list(
                  R"({"data": {"domains": [{"domain": "a.test", "custom": "no"}]}})");
            }),
            "data.domains[0].custom");
  EXPECT_EQ(
      decode_error_field([] {
        (void)decode_message_list(
            R"({"messages": [{"id": "a"}, {"id": "b", "attachments": [{"name": "f", "size": "91"}]}]})");
      }),
      "messages[1].attachments[0].size");
  EXPECT_EQ(decode_error_field(
                [] { (void)decode_mailbox_info(R"({"data": {"id": "2301", "email": "x@y"}})"); }),
            "data.id");
  EXPECT_EQ(
      decode_error_field([] {
        (void)decode_domain_list(R"({"data": {"allowed_types": ["free", 7], "domains": []}})");
      }),
      "data.allowed_types[1]");
  EXPECT_EQ(decode_error_field([] { (void)decode_message(R"({"data": {"id": 5}})"); }), "data.id");
}

TEST(Decode, NamesAMissingRequiredField) {
  EXPECT_EQ(decode_error_field([] { (void)decode_message(R"({"status": true})"); }), "data");
  EXPECT_EQ(decode_error_field([] { (void)decode_mailbox_info(R"({"data": {"id": 1}})"); }),
            "data.email");
  EXPECT_EQ(decode_error_field([] { (void)decode_message_list(R"({"mailbox": "a@b"})"); }),
            "messages");
}

TEST(Decode, RejectsUnreadableTimestampsNamingTheField) {
  EXPECT_EQ(decode_error_field([] {
              (void)decode_mailbox_info(R"({"data": {"email": "a@b", "expire_at": "tomorrow"}})");
            }),
            "data.expire_at");
  EXPECT_EQ(decode_error_field([] {
              (void)decode_message(R"({"data": {"id": "a", "receivedAt": "28/06/2026"}})");
            }),
            "data.receivedAt");
}

TEST(Decode, RejectsNegativeAndFractionalIntegers) {
  EXPECT_EQ(decode_error_field([] {
              (void)decode_message(
                  R"({"data": {"id": "a", "attachments": [{"name": "f", "size": -1}]}})");
            }),
            "data.attachments[0].size");
  EXPECT_EQ(decode_error_field(
                [] { (void)decode_mailbox_info(R"({"data": {"id": 1.5, "email": "a@b"}})"); }),
            "data.id");
  EXPECT_EQ(decode_mailbox_info(R"({"data": {"id": 2301.0, "email": "a@b"}})").id, 2301);
}

TEST(Decode, ReportsABodyThatIsNotJsonWithAnEmptyField) {
  for (std::string_view body : {"", "<html>502</html>", R"({"status": true, "data": {"domains": [)",
                                "[1, 2]", "null", "\xff\xfe"}) {
    try {
      (void)decode_domain_list(body);
      ADD_FAILURE() << "expected DecodeError for " << body;
    } catch (const DecodeError& e) {
      EXPECT_EQ(e.field(), "") << body;
    }
  }
}

TEST(Decode, RejectsDeepNestingWithoutRecursingForever) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THROW((void)decode_message_list(deep), DecodeError);
}

// A poor man's fuzzer until the real one exists: every truncation and
// thousands of byte flips of the samples end in a value or a DecodeError.
TEST(Decode, ThrowsNothingButDecodeErrorOnMangledInput) {
  std::uint32_t state = 12345;
  auto next = [&state] { return state = state * 1664525u + 1013904223u; };
  for (std::string_view sample : {kDomainsSample, kCreateSample, kListSample, kMessageSample}) {
    std::vector<std::string> inputs;
    for (std::size_t n = 0; n <= sample.size(); ++n) inputs.emplace_back(sample.substr(0, n));
    for (int i = 0; i < 2000; ++i) {
      std::string s(sample);
      for (int flips = 1 + static_cast<int>(next() % 4); flips > 0; --flips)
        s[next() % s.size()] = static_cast<char>(next() >> 24);
      inputs.push_back(std::move(s));
    }
    for (const std::string& input : inputs) {
      for (auto decode : {+[](std::string_view b) { (void)decode_domain_list(b); },
                          +[](std::string_view b) { (void)decode_mailbox_info(b); },
                          +[](std::string_view b) { (void)decode_message_list(b); },
                          +[](std::string_view b) { (void)decode_message(b); },
                          +[](std::string_view b) { decode_ack(b); },
                          +[](std::string_view b) { (void)error_body_message(b); }}) {
        try {
          decode(input);
        } catch (const DecodeError&) {
        } catch (const std::exception& e) {
          ADD_FAILURE() << "threw " << e.what() << " for: " << input;
        }
      }
    }
  }
}

TEST(ErrorBodyMessage, TakesTheJsonMessage) {
  EXPECT_EQ(error_body_message(R"({"status": false, "message": "Mailbox not found."})"),
            "Mailbox not found.");
  EXPECT_EQ(error_body_message(R"({"error": "Unauthenticated"})"), "Unauthenticated");
}

TEST(ErrorBodyMessage, TakesTheTitleOfAnHtmlPage) {
  EXPECT_EQ(error_body_message(
                "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
                "</body>\r\n</html>\r\n"),
            "502 Bad Gateway");
  EXPECT_EQ(error_body_message("<p>Service <b>down</b></p>"), "Service down");
}

TEST(ErrorBodyMessage, ShortensLongBodiesWithoutSplittingUtf8) {
  std::string body;
  for (int i = 0; i < 300; ++i) body += "\xC3\xBC";  // "ü"
  const std::string excerpt = error_body_message(body);
  EXPECT_LT(excerpt.size(), 220u);
  EXPECT_EQ(excerpt.substr(excerpt.size() - 3), "...");
  EXPECT_EQ(excerpt.size() % 2, 1u);  // whole two-byte characters plus "..."
}

TEST(ErrorBodyMessage, IsEmptyForAnEmptyBody) {
  EXPECT_EQ(error_body_message(""), "");
  EXPECT_EQ(error_body_message(" \r\n"), "");
}

}  // namespace
}  // namespace tempmail::detail
