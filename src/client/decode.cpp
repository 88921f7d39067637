#include "client/decode.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "common/time.hpp"
#include "tempmail/errors.hpp"

namespace tempmail::detail {
namespace {

namespace json = boost::json;

// Deep enough for every documented shape; deeper input is rejected by the
// parser instead of recursing without bound.
constexpr std::size_t kMaxDepth = 32;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw DecodeError(path + " " + problem, 0, {}, path);
}

std::string join(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out = parent;
  out += '.';
  out += key;
  return out;
}

std::string index(const std::string& parent, std::size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "something else";
}

[[noreturn]] void wrong_type(const std::string& path, const char* expected, const json::value& v) {
  fail(path, std::string("must be ") + expected + ", got " + kind_name(v));
}

// An object's member, or nullptr when it is absent or null: the API's
// optional fields may be either.
const json::value* find(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

const json::value& require(const json::object& o, std::string_view key, const std::string& path) {
  const json::value* v = find(o, key);
  if (v == nullptr) fail(path, "is missing");
  return *v;
}

const json::object& as_object(const json::value& v, const std::string& path) {
  if (!v.is_object()) wrong_type(path, "an object", v);
  return v.get_object();
}

const json::array& as_array(const json::value& v, const std::string& path) {
  if (!v.is_array()) wrong_type(path, "an array", v);
  return v.get_array();
}

std::string as_string(const json::value& v, const std::string& path) {
  if (!v.is_string()) wrong_type(path, "a string", v);
  const json::string& s = v.get_string();
  return std::string(s.data(), s.size());
}

bool as_bool(const json::value& v, const std::string& path) {
  if (!v.is_bool()) wrong_type(path, "a boolean", v);
  return v.get_bool();
}

std::int64_t as_int64(const json::value& v, const std::string& path) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return static_cast<std::int64_t>(v.get_uint64());
    fail(path, "is out of range for a 64-bit integer");
  }
  if (v.is_double()) {
    const double d = v.get_double();
    // 2^63 is exactly representable; everything in [-2^63, 2^63) converts.
    if (std::trunc(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
      return static_cast<std::int64_t>(d);
    fail(path, "must be an integer, got a fraction or an out-of-range number");
  }
  wrong_type(path, "an integer", v);
}

std::uint64_t as_uint64(const json::value& v, const std::string& path) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64()) {
    if (v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    fail(path, "must not be negative");
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::trunc(d) == d && d >= 0.0 && d < 18446744073709551616.0)
      return static_cast<std::uint64_t>(d);
    fail(path, "must be a non-negative integer");
  }
  wrong_type(path, "a non-negative integer", v);
}

// Optional members: left at their default when absent or null.
void opt_string(const json::object& o, std::string_view key, const std::string& parent,
                std::string& out) {
  if (const json::value* v = find(o, key)) out = as_string(*v, join(parent, key));
}

void opt_bool(const json::object& o, std::string_view key, const std::string& parent, bool& out) {
  if (const json::value* v = find(o, key)) out = as_bool(*v, join(parent, key));
}

void opt_iso8601(const json::object& o, std::string_view key, const std::string& parent,
                 std::chrono::sys_seconds& out) {
  const json::value* v = find(o, key);
  if (v == nullptr) return;
  const std::string path = join(parent, key);
  const std::string text = as_string(*v, path);
  auto t = parse_iso8601(text);
  if (!t)
    fail(path,
         "must be an ISO 8601 timestamp with a UTC offset, got \"" + text.substr(0, 40) + "\"");
  out = *t;
}

json::object parse_root(std::string_view body) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = kMaxDepth;
  json::value root = json::parse(body, ec, {}, options);
  if (ec) {
    throw DecodeError("the body is not valid JSON (" + ec.message() + ")", 0, {}, {});
  }
  if (!root.is_object()) {
    throw DecodeError(std::string("the body must be a JSON object, got ") + kind_name(root), 0, {},
                      {});
  }
  return std::move(root.get_object());
}

// `"status": false` in a 2xx body is a failure the server reports in-band.
void check_status(const json::object& root) {
  const json::value* status = find(root, "status");
  if (status == nullptr) return;
  if (!as_bool(*status, "status")) {
    std::string problem = "is false: the server reported a failure";
    if (const json::value* m = find(root, "message"); m != nullptr && m->is_string())
      problem += " (\"" + std::string(m->get_string().subview().substr(0, 200)) + "\")";
    fail("status", problem);
  }
}

const json::object& data_object(const json::object& root) {
  return as_object(require(root, "data", "data"), "data");
}

Attachment decode_attachment(const json::object& o, const std::string& path) {
  Attachment a;
  a.name = as_string(require(o, "name", join(path, "name")), join(path, "name"));
  opt_string(o, "extension", path, a.extension);
  if (const json::value* v = find(o, "size")) a.size = as_uint64(*v, join(path, "size"));
  opt_string(o, "url", path, a.url);
  return a;
}

Message decode_message_object(const json::object& o, const std::string& path) {
  Message m;
  m.id = as_string(require(o, "id", join(path, "id")), join(path, "id"));
  opt_string(o, "subject", path, m.subject);
  opt_string(o, "from", path, m.from_name);
  opt_string(o, "from_email", path, m.from_email);
  opt_string(o, "to", path, m.to);
  if (const json::value* v = find(o, "receivedAt")) {
    const std::string p = join(path, "receivedAt");
    const std::string text = as_string(*v, p);
    // The documented form has no zone; accept ISO 8601 too, in case the service adds one.
    auto t = parse_received_at(text);
    if (!t) t = parse_iso8601(text);
    if (!t)
      fail(p, "must be a \"YYYY-MM-DD HH:MM:SS\" timestamp, got \"" + text.substr(0, 40) + "\"");
    m.received_at = *t;
  }
  opt_bool(o, "is_seen", path, m.is_seen);
  opt_bool(o, "html", path, m.html);
  opt_string(o, "content", path, m.content);
  if (const json::value* v = find(o, "attachments")) {
    const std::string p = join(path, "attachments");
    const json::array& list = as_array(*v, p);
    m.attachments.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string item = index(p, i);
      m.attachments.push_back(decode_attachment(as_object(list[i], item), item));
    }
  }
  return m;
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Cut at `max` bytes without splitting a UTF-8 sequence.
std::string truncate_utf8(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text += "...";
  return text;
}

std::string strip_tags(std::string_view html) {
  std::string out;
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') {
      in_tag = true;
      out += ' ';
    } else if (c == '>') {
      in_tag = false;
    } else if (!in_tag) {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> html_title(std::string_view body) {
  // Case-insensitive search for <title>...</title>: gateway pages put the
  // status there ("502 Bad Gateway").
  std::string lower(body.substr(0, 64 * 1024));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto open = lower.find("<title>");
  if (open == std::string::npos) return std::nullopt;
  const auto close = lower.find("</title>", open);
  if (close == std::string::npos) return std::nullopt;
  std::string title = collapse_whitespace(body.substr(open + 7, close - open - 7));
  if (title.empty()) return std::nullopt;
  return title;
}

constexpr std::size_t kExcerptBytes = 200;
constexpr std::size_t kMessageBytes = 500;

std::string error_body_message_impl(std::string_view body) {
  const std::string trimmed = collapse_whitespace(body.substr(0, 64 * 1024));
  if (trimmed.empty()) return {};
  if (trimmed.front() == '{') {
    boost::system::error_code ec;
    json::parse_options options;
    options.max_depth = kMaxDepth;
    json::value v = json::parse(body, ec, {}, options);
    if (!ec && v.is_object()) {
      for (std::string_view key : {"message", "error"}) {
        if (const json::value* m = find(v.get_object(), key); m != nullptr && m->is_string()) {
          std::string text = collapse_whitespace(m->get_string().subview());
          if (!text.empty()) return truncate_utf8(std::move(text), kMessageBytes);
        }
      }
    }
  } else if (trimmed.front() == '<') {
    if (auto title = html_title(body)) return truncate_utf8(std::move(*title), kExcerptBytes);
    return truncate_utf8(collapse_whitespace(strip_tags(body.substr(0, 64 * 1024))), kExcerptBytes);
  }
  return truncate_utf8(trimmed, kExcerptBytes);
}

}  // namespace

DomainList decode_domain_list(std::string_view body) {
  const json::object root = parse_root(body);
  check_status(root);
  const json::object& data = data_object(root);
  DomainList out;
  opt_string(data, "requested_type", "data", out.requested_type);
  if (const json::value* v = find(data, "allowed_types")) {
    const json::array& types = as_array(*v, "data.allowed_types");
    for (std::size_t i = 0; i < types.size(); ++i)
      out.allowed_types.push_back(as_string(types[i], index("data.allowed_types", i)));
  }
  const json::array& domains = as_array(require(data, "domains", "data.domains"), "data.domains");
  out.domains.reserve(domains.size());
  for (std::size_t i = 0; i < domains.size(); ++i) {
    const std::string path = index("data.domains", i);
    const json::object& o = as_object(domains[i], path);
    Domain d;
    d.name = as_string(require(o, "domain", join(path, "domain")), join(path, "domain"));
    opt_string(o, "type", path, d.type);
    opt_bool(o, "custom", path, d.custom);
    out.domains.push_back(std::move(d));
  }
  return out;
}

MailboxInfo decode_mailbox_info(std::string_view body) {
  const json::object root = parse_root(body);
  check_status(root);
  const json::object& data = data_object(root);
  MailboxInfo out;
  if (const json::value* v = find(data, "id")) out.id = as_int64(*v, "data.id");
  out.email = as_string(require(data, "email", "data.email"), "data.email");
  opt_string(data, "domain", "data", out.domain);
  opt_iso8601(data, "expire_at", "data", out.expire_at);
  if (const json::value* v = find(data, "expires_in_seconds"))
    out.expires_in = std::chrono::seconds(as_int64(*v, "data.expires_in_seconds"));
  opt_iso8601(data, "created_at", "data", out.created_at);
  opt_string(data, "email_token", "data", out.email_token);
  if (out.domain.empty()) {
    // Not documented as optional, but it is always the part after '@'.
    if (auto at = out.email.rfind('@'); at != std::string::npos)
      out.domain = out.email.substr(at + 1);
  }
  return out;
}

MessageList decode_message_list(std::string_view body) {
  const json::object root = parse_root(body);
  check_status(root);
  MessageList out;
  opt_string(root, "mailbox", "", out.mailbox);
  const json::array& list = as_array(require(root, "messages", "messages"), "messages");
  out.messages.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = index("messages", i);
    out.messages.push_back(decode_message_object(as_object(list[i], path), path));
  }
  return out;
}

Message decode_message(std::string_view body) {
  const json::object root = parse_root(body);
  check_status(root);
  return decode_message_object(data_object(root), "data");
}

void decode_ack(std::string_view body) {
  if (collapse_whitespace(body).empty()) return;  // e.g. 204 No Content
  check_status(parse_root(body));
}

std::string error_body_message(std::string_view body) noexcept {
  try {
    return error_body_message_impl(body);
  } catch (...) {
    return {};
  }
}

}  // namespace tempmail::detail
