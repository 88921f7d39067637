// Untrusted response bodies -> the client's JSON decoding (src/client/decode.hpp).
// The first byte picks the decoder, the rest is the body. Besides crashes:
// decoders throw only DecodeError; error_body_message stays short; a decoded
// message or list survives the round trip through the API's own JSON writer.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "client/decode.hpp"
#include "common/api_json.hpp"
#include "tempmail/errors.hpp"

namespace {

namespace td = tempmail::detail;

// The list endpoint's shape, as the local server writes it, decoded again.
void check_round_trip(const tempmail::MessageList& list) {
  const std::string json = boost::json::serialize(td::to_api_json(list));
  TEMPMAIL_FUZZ_CHECK(td::decode_message_list(json) == list);
}

// Bodies with a "data" member: the same value written by the API's JSON writer.
template <class T>
std::string wrapped(const T& value) {
  return boost::json::serialize(
      boost::json::object{{"status", true}, {"data", td::to_api_json(value)}});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 6) {
      case 0: {
        const tempmail::MessageList list = td::decode_message_list(body);
        check_round_trip(list);
        break;
      }
      case 1: {
        const tempmail::Message message = td::decode_message(body);
        check_round_trip(tempmail::MessageList{.mailbox = "", .messages = {message}});
        break;
      }
      case 2: {
        const tempmail::DomainList domains = td::decode_domain_list(body);
        TEMPMAIL_FUZZ_CHECK(td::decode_domain_list(wrapped(domains)) == domains);
        break;
      }
      case 3: {
        const tempmail::MailboxInfo mailbox = td::decode_mailbox_info(body);
        TEMPMAIL_FUZZ_CHECK(td::decode_mailbox_info(wrapped(mailbox)) == mailbox);
        break;
      }
      case 4:
        td::decode_ack(body);
        break;
      case 5: {
        const std::string message = td::error_body_message(body);
        // 500 bytes of JSON "message" (or 200 of an excerpt) plus "...".
        TEMPMAIL_FUZZ_CHECK(message.size() <= 503);
        TEMPMAIL_FUZZ_CHECK(!tempmail::fuzz::has_control(message));
        break;
      }
    }
  } catch (const tempmail::DecodeError&) {
    // The documented outcome for a body that is not the expected shape.
  }
  return 0;
}
