// Raw messages as an SMTP client may send them -> tempmail::detail::parse_message
// and on through the store to what the API serves: injected with
// POST /_local/messages, read back with GET /api/messages/{id}, every
// attachment fetched by the URL the API gives, then deleted.
// Besides crashes: every text field is valid UTF-8; attachment names are
// unique, non-empty, without path or control characters; parsing is
// deterministic; the API serves exactly what was parsed.
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "check.hpp"
#include "local_api.hpp"
#include "mime/parse.hpp"

namespace {

using tempmail::fuzz::valid_utf8;
namespace json = boost::json;

void check_parsed(const tempmail::detail::ParsedMessage& m) {
  TEMPMAIL_FUZZ_CHECK(valid_utf8(m.subject));
  TEMPMAIL_FUZZ_CHECK(valid_utf8(m.from_name));
  TEMPMAIL_FUZZ_CHECK(valid_utf8(m.from_email));
  TEMPMAIL_FUZZ_CHECK(valid_utf8(m.to));
  TEMPMAIL_FUZZ_CHECK(valid_utf8(m.message_id));
  TEMPMAIL_FUZZ_CHECK(valid_utf8(m.text));
  TEMPMAIL_FUZZ_CHECK(valid_utf8(m.html));
  std::set<std::string> names;
  for (const auto& a : m.attachments) {
    TEMPMAIL_FUZZ_CHECK(!a.name.empty() && valid_utf8(a.name));
    TEMPMAIL_FUZZ_CHECK(!tempmail::fuzz::has_control(a.name));
    TEMPMAIL_FUZZ_CHECK(a.name.find_first_of("/\\") == std::string::npos);
    TEMPMAIL_FUZZ_CHECK(a.name != "." && a.name != "..");
    TEMPMAIL_FUZZ_CHECK(names.insert(a.name).second);
    TEMPMAIL_FUZZ_CHECK(valid_utf8(a.content_type) && !tempmail::fuzz::has_control(a.content_type));
  }
}

tempmail::fuzz::LocalApi& api() {
  static auto* instance = new tempmail::fuzz::LocalApi();  // lives as long as the process
  return *instance;
}

std::string str(const json::value& v) { return std::string(v.as_string()); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 1024 * 1024) return 0;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const tempmail::detail::ParsedMessage parsed = tempmail::detail::parse_message(raw);
  check_parsed(parsed);
  if (raw.empty()) return 0;  // the API refuses an empty body (400)

  auto& local = api();
  namespace http = tempmail::fuzz::http;
  const auto injected = local.call(http::verb::post,
                                   "/_local/messages?email=" + std::string(tempmail::fuzz::kMailbox),
                                   std::string(raw));
  const json::value created = tempmail::fuzz::check_response(injected);
  TEMPMAIL_FUZZ_CHECK(injected.result_int() == 200);
  const std::string id = str(created.at("data").at("id"));

  const auto read = local.call(http::verb::get, "/api/messages/" + id);
  TEMPMAIL_FUZZ_CHECK(read.result_int() == 200);
  const json::value served = tempmail::fuzz::check_response(read);
  const json::object& m = served.at("data").as_object();
  TEMPMAIL_FUZZ_CHECK(str(m.at("subject")) == parsed.subject);
  TEMPMAIL_FUZZ_CHECK(str(m.at("from")) == parsed.from_name);
  TEMPMAIL_FUZZ_CHECK(str(m.at("from_email")) == parsed.from_email);
  TEMPMAIL_FUZZ_CHECK(str(m.at("to")) == tempmail::fuzz::kMailbox);
  TEMPMAIL_FUZZ_CHECK(m.at("html").as_bool() == parsed.is_html());
  TEMPMAIL_FUZZ_CHECK(str(m.at("content")) == parsed.content());
  const json::array& attachments = m.at("attachments").as_array();
  TEMPMAIL_FUZZ_CHECK(attachments.size() == parsed.attachments.size());
  for (std::size_t i = 0; i < attachments.size(); ++i) {
    const auto& a = attachments[i].as_object();
    const auto& want = parsed.attachments[i];
    TEMPMAIL_FUZZ_CHECK(str(a.at("name")) == want.name);
    TEMPMAIL_FUZZ_CHECK(a.at("size").to_number<std::uint64_t>() == want.data.size());
    // The URL the API gives must fetch exactly these bytes.
    const std::string served_url = str(a.at("url"));
    auto url = boost::urls::parse_absolute_uri(served_url);
    TEMPMAIL_FUZZ_CHECK(url.has_value());
    const auto fetched = local.call(http::verb::get, url->encoded_target());
    tempmail::fuzz::check_response(fetched);
    TEMPMAIL_FUZZ_CHECK(fetched.result_int() == 200);
    TEMPMAIL_FUZZ_CHECK(fetched.body() == want.data);
  }

  const auto deleted = local.call(http::verb::delete_, "/api/messages/" + id);
  tempmail::fuzz::check_response(deleted);
  TEMPMAIL_FUZZ_CHECK(deleted.result_int() == 200);
  return 0;
}
