// Raw HTTP requests -> tempmail::local::detail::handle_request over an
// in-memory store. The input is one request as a client sends it (parsed by
// Beast, as the session does); "@ID@" in it is replaced by the id of a
// message in the mailbox fuzz@example.com, which every input starts with.
// Besides crashes: see check_response (no 500, no header splitting, JSON
// bodies with a "status" that agrees with the status code).
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "check.hpp"
#include "local_api.hpp"

namespace {

namespace ld = tempmail::local::detail;
using tempmail::fuzz::http::verb;

constexpr std::string_view kMessage =
    "From: Sender <s@example.org>\r\nTo: fuzz@example.com\r\nSubject: hello\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
    "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Code 123456</p>\r\n"
    "--b\r\nContent-Type: text/plain; name=\"a b.txt\"\r\n"
    "Content-Disposition: attachment; filename=\"a b.txt\"\r\n\r\nhello\r\n--b--\r\n";

// The state every input starts from: the mailbox with one message. Inputs
// may create mailboxes; the store is replaced before they pile up.
std::unique_ptr<tempmail::fuzz::LocalApi>& local() {
  static auto* instance = new std::unique_ptr<tempmail::fuzz::LocalApi>();
  if (!*instance || (*instance)->store().stats().mailboxes > 16)
    *instance = std::make_unique<tempmail::fuzz::LocalApi>();
  return *instance;
}

std::string message_id(tempmail::fuzz::LocalApi& api) {
  api.ensure_mailbox();
  auto list = api.store().list_messages(api.account(), tempmail::fuzz::kMailbox);
  TEMPMAIL_FUZZ_CHECK(list.ok());
  if (list.value.messages.empty()) {
    auto injected = api.store().inject(api.account(), tempmail::fuzz::kMailbox, std::string(kMessage));
    TEMPMAIL_FUZZ_CHECK(injected.ok());
    return injected.value;
  }
  return list.value.messages.front().message->id;
}

std::string with_id(std::string_view input, const std::string& id) {
  std::string out(input);
  for (auto at = out.find("@ID@"); at != std::string::npos; at = out.find("@ID@", at + id.size()))
    out.replace(at, 4, id);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256 * 1024) return 0;
  auto& api = *local();
  const std::string input =
      with_id(std::string_view(reinterpret_cast<const char*>(data), size), message_id(api));

  boost::beast::http::request_parser<boost::beast::http::string_body> parser;
  parser.eager(true);
  parser.body_limit(1024 * 1024);
  boost::beast::error_code ec;
  boost::asio::const_buffer buffer(input.data(), input.size());
  while (buffer.size() > 0 && !parser.is_done()) {
    const std::size_t used = parser.put(buffer, ec);
    if (ec) return 0;  // the session answers 400 before the handler sees it
    if (used == 0) break;
    buffer += used;
  }
  if (!parser.is_done()) return 0;
  ld::Request request = parser.release();

  if (ld::is_wait_request(request)) {
    auto planned = ld::begin_wait(request, api.context());
    if (auto* response = std::get_if<ld::Response>(&planned)) {
      tempmail::fuzz::check_response(*response);
    } else {
      const auto& plan = std::get<ld::WaitPlan>(planned);
      TEMPMAIL_FUZZ_CHECK(plan.timeout.count() > 0 && plan.timeout.count() <= 300000);
      tempmail::fuzz::check_response(ld::finish_wait(request, api.context(), plan));
    }
  }
  tempmail::fuzz::check_response(ld::handle_request(request, api.context()));
  return 0;
}
