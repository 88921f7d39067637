// The local server's HTTP API without sockets, for the fuzz targets: an
// in-memory Store, one key, one mailbox "fuzz@example.com" (re-created when an
// input deletes or renames it), a frozen clock so nothing expires.
#pragma once

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "check.hpp"
#include "local/http/auth.hpp"
#include "local/http/handler.hpp"
#include "local/store/store.hpp"
#include "mime/parse.hpp"

namespace tempmail::fuzz {

namespace http = boost::beast::http;
namespace ld = tempmail::local::detail;

inline constexpr std::string_view kKey = "fuzz-key";
inline constexpr std::string_view kMailbox = "fuzz@example.com";

class LocalApi {
 public:
  LocalApi()
      : store_(ld::StoreOptions{
            .db_path = {},
            .domains = {tempmail::local::DomainConfig{"example.com", "free"}},
            .mailbox_ttl = std::chrono::seconds{600},
            .monthly_quota = std::numeric_limits<std::int64_t>::max() / 2,
            .parse = &tempmail::detail::parse_message,
            // 2026-06-28T09:39:08Z, always: no mailbox ever expires.
            .clock = [] { return std::chrono::sys_seconds{std::chrono::seconds{1782639548}}; },
            .log = [](std::string_view) {}}),
        keys_({std::string(kKey)}),
        context_{.store = store_, .keys = keys_, .scheme = "http", .base_url = "http://127.0.0.1:9"} {
    ensure_mailbox();
  }

  ld::Store& store() { return store_; }
  ld::Context& context() { return context_; }
  [[nodiscard]] std::string account() const { return ld::Keyring::account_of(kKey); }

  /// The fixed mailbox exists (again) after this.
  void ensure_mailbox() {
    if (store_.list_messages(account(), kMailbox).ok()) return;
    auto created = store_.create_mailbox(account());
    TEMPMAIL_FUZZ_CHECK(created.ok());
    const auto at = kMailbox.find('@');
    auto moved = store_.switch_mailbox(account(), created.value.address, kMailbox.substr(0, at),
                                       kMailbox.substr(at + 1));
    TEMPMAIL_FUZZ_CHECK(moved.ok());
  }

  ld::Response call(http::verb method, std::string_view target, std::string body = {}) {
    ld::Request request{method, target, 11};
    request.set(http::field::host, "127.0.0.1:8025");
    request.set(http::field::authorization, "Bearer " + std::string(kKey));
    request.body() = std::move(body);
    request.prepare_payload();
    return ld::handle_request(request, context_);
  }

 private:
  ld::Store store_;
  ld::Keyring keys_;
  ld::Context context_;
};

/// What every answer of handle_request must be, whatever the request: never a
/// 500 (an exception escaped a handler), header values that cannot split the
/// response, and a JSON object with a boolean "status" unless it is raw bytes.
inline boost::json::value check_response(const ld::Response& response) {
  TEMPMAIL_FUZZ_CHECK(response.result_int() != 500);
  for (const auto& field : response) {
    for (char c : field.value()) TEMPMAIL_FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
  }
  // An attachment (Content-Disposition) is raw bytes, whatever its type says.
  if (response[http::field::content_type] != "application/json" ||
      response.count(http::field::content_disposition) != 0)
    return nullptr;
  boost::system::error_code ec;
  boost::json::value body = boost::json::parse(response.body(), ec);
  TEMPMAIL_FUZZ_CHECK(!ec && body.is_object());
  const auto* status = body.as_object().if_contains("status");
  TEMPMAIL_FUZZ_CHECK(status != nullptr && status->is_bool());
  TEMPMAIL_FUZZ_CHECK(status->as_bool() == (response.result_int() / 100 == 2));
  return body;
}

}  // namespace tempmail::fuzz
