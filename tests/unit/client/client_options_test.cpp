#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

#include "tempmail/client.hpp"

namespace tempmail {
namespace {

using ::testing::HasSubstr;

std::string invalid_argument_of(const ClientOptions& options) {
  try {
    Client client(options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<accepted>";
}

TEST(ClientOptions, AreValidatedNamingTheField) {
  EXPECT_THAT(invalid_argument_of({.base_url = "ftp://x", .api_key = "k"}),
              HasSubstr("ClientOptions.base_url"));
  EXPECT_THAT(invalid_argument_of({.api_key = ""}), HasSubstr("ClientOptions.api_key"));
  EXPECT_THAT(invalid_argument_of({.api_key = "k\r\nX-Evil: 1"}),
              HasSubstr("ClientOptions.api_key"));
  EXPECT_THAT(invalid_argument_of({.api_key = "k", .retry = {.max_attempts = 0}}),
              HasSubstr("RetryPolicy.max_attempts"));
  EXPECT_THAT(
      invalid_argument_of({.api_key = "k", .request_timeout = std::chrono::milliseconds(0)}),
      HasSubstr("ClientOptions.request_timeout"));
  EXPECT_THAT(
      invalid_argument_of(
          {.base_url = "https://127.0.0.1:1", .api_key = "k", .ca_file = "/nonexistent/ca.pem"}),
      HasSubstr("ClientOptions.ca_file"));
}

TEST(ClientOptions, KeepTheKeyOutOfValidationMessages) {
  const std::string message =
      invalid_argument_of({.base_url = "http://example.com/path", .api_key = "sk_SECRET"});
  EXPECT_THAT(message, ::testing::Not(HasSubstr("sk_SECRET")));
}

TEST(Client, DoesNotConnectWhenConstructed) {
  // Nothing listens on port 1; construction must still succeed.
  EXPECT_NO_THROW(Client({.base_url = "http://127.0.0.1:1", .api_key = "k"}));
}

TEST(ClientFromEnv, RequiresTheApiKey) {
  ::unsetenv("TEMPMAIL_API_KEY");
  try {
    (void)Client::from_env();
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("TEMPMAIL_API_KEY is not set"));
  }
}

TEST(ClientFromEnv, ReadsTheKeyAndBaseUrl) {
  ::setenv("TEMPMAIL_API_KEY", "env-key", 1);
  ::setenv("TEMPMAIL_BASE_URL", "http://127.0.0.1:8025", 1);
  const Client client = Client::from_env({.user_agent = "test-agent"});
  EXPECT_EQ(client.options().api_key, "env-key");
  EXPECT_EQ(client.options().base_url, "http://127.0.0.1:8025");
  EXPECT_EQ(client.options().user_agent, "test-agent");
  ::unsetenv("TEMPMAIL_API_KEY");
  ::unsetenv("TEMPMAIL_BASE_URL");
}

TEST(ClientFromEnv, RejectsAnEmptyBaseUrlInsteadOfUsingTheHostedService) {
  ::setenv("TEMPMAIL_API_KEY", "env-key", 1);
  ::setenv("TEMPMAIL_BASE_URL", "", 1);
  try {
    (void)Client::from_env();
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("TEMPMAIL_BASE_URL is set but empty"));
  }
  ::unsetenv("TEMPMAIL_API_KEY");
  ::unsetenv("TEMPMAIL_BASE_URL");
}

TEST(CallOptions, HaveTheirRetryPolicyValidatedNamingTheField) {
  Client client({.base_url = "http://127.0.0.1:1", .api_key = "k"});
  try {
    (void)client.domains("free", {.retry = RetryPolicy{.max_attempts = 0}});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("CallOptions.retry: RetryPolicy.max_attempts"));
  }
}

TEST(Client, RejectsEmptyIdentifiersBeforeSendingAnything) {
  Client client({.base_url = "http://127.0.0.1:1", .api_key = "k"});
  EXPECT_THROW(client.delete_mailbox(""), std::invalid_argument);
  EXPECT_THROW((void)client.message(""), std::invalid_argument);
  EXPECT_THROW((void)client.attachment("id", ""), std::invalid_argument);
  EXPECT_THROW((void)client.switch_mailbox("a@b.c", "", "b.c"), std::invalid_argument);
}

}  // namespace
}  // namespace tempmail
