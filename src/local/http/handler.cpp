#include "local/http/handler.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <charconv>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "common/ascii.hpp"
#include "common/redact.hpp"
#include "common/time.hpp"
#include "mime/charset.hpp"
#include "mime/parse.hpp"

#ifndef TEMPMAIL_VERSION
#define TEMPMAIL_VERSION "unknown"
#endif

namespace tempmail::local::detail {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using std::chrono::sys_seconds;

constexpr std::chrono::milliseconds kDefaultWait{30000};
constexpr std::chrono::milliseconds kMaxWait{300000};

Response make_response(const Request& req, http::status status) {
  Response res{status, req.version()};
  res.set(http::field::server, "tempmail-local/" TEMPMAIL_VERSION);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  return res;
}

Response json_response(const Request& req, http::status status, const json::value& body) {
  Response res = make_response(req, status);
  res.set(http::field::content_type, "application/json");
  res.body() = json::serialize(body);
  res.prepare_payload();
  return res;
}

// Messages quote the request (percent-decoded, so any bytes): keep the JSON valid UTF-8.
Response error(const Request& req, http::status status, std::string_view message) {
  return json_response(
      req, status,
      json::object{{"status", false}, {"message", tempmail::detail::make_valid_utf8(message)}});
}

Response status_error(const Request& req, Status status, std::string_view reason) {
  switch (status) {
    case Status::kNotFound:
      return error(req, http::status::not_found, reason);
    case Status::kConflict:
      return error(req, http::status::conflict, reason);
    case Status::kInvalid:
      return error(req, http::status::unprocessable_entity, reason);
    case Status::kForbidden:
      return error(req, http::status::forbidden, reason);
    case Status::kUnavailable:
      return error(
          req, http::status::service_unavailable,
          reason.empty() ? "The server is shutting down: retry against a running server" : reason);
    case Status::kOk:
      break;
  }
  return error(req, http::status::internal_server_error, "unexpected store status");
}

Response method_not_allowed(const Request& req, std::string_view path, std::string_view allow) {
  Response res = error(req, http::status::method_not_allowed,
                       "Method " + std::string(req.method_string()) + " is not allowed on " +
                           std::string(path) + ": use " + std::string(allow));
  res.set(http::field::allow, allow);
  return res;
}

std::string capitalised(std::string_view type) {
  std::string out(type);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z')
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '[' || c == ']';
  });
}

// The origin clients reached us at: attachment URLs point back at it.
std::string origin(const Request& req, const Context& ctx) {
  auto host = req[http::field::host];
  if (valid_host(host)) return ctx.scheme + "://" + std::string(host);
  return ctx.base_url;
}

std::string pct(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

// The fields of a message that never change, serialised on first use and kept
// with the message (without the braces). Rationale: the list endpoint is the
// hot path; copying these bytes is several times cheaper than building and
// escaping a JSON value per message per request (bench/RESULTS.md, API rows).
const std::string& fixed_fields_json(const StoredMessage& m) {
  std::call_once(m.json_once, [&m] {
    const MessageFields& f = m.fields();
    std::string s = json::serialize(
        json::object{{"subject", f.subject},
                     {"from", f.from_name},
                     {"from_email", f.from_email},
                     {"to", m.to},
                     {"receivedAt", tempmail::detail::format_received_at(m.received_at)},
                     {"id", m.id},
                     {"html", f.html},
                     {"content", f.content}});
    // A damaged message is listed, and says so: never as if it were whole.
    if (!f.damage.empty())
      s.insert(s.size() - 1, ",\"damaged\":" + json::serialize(json::string(f.damage)));
    m.json_fields = s.substr(1, s.size() - 2);
  });
  return m.json_fields;
}

// The message as the API's JSON object: is_seen, the fixed fields, attachments
// (whose URLs point back at `origin`).
void append_message_json(std::string& out, const MessageView& view, const std::string& origin) {
  const StoredMessage& m = *view.message;
  out += view.seen ? R"({"is_seen":true,)" : R"({"is_seen":false,)";
  out += fixed_fields_json(m);
  out += R"(,"attachments":)";
  json::array attachments;
  for (const auto& a : m.fields().attachments) {
    attachments.push_back(
        json::object{{"name", a.name},
                     {"extension", tempmail::detail::extension_of(a.name)},
                     {"size", static_cast<std::int64_t>(a.data.size())},
                     {"url", origin + "/api/messages/" + m.id + "/attachments/" + pct(a.name)}});
  }
  out += json::serialize(attachments);
  out += '}';
}

// A JSON response whose body is already serialised.
Response serialised_response(const Request& req, http::status status, std::string body) {
  Response res = make_response(req, status);
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

json::object mailbox_json(const MailboxRecord& r, sys_seconds now) {
  const auto left = std::max<std::int64_t>(0, (r.expire_at - now).count());
  return json::object{{"id", r.id},
                      {"email", r.address},
                      {"domain", r.domain},
                      {"expire_at", tempmail::detail::format_iso8601(r.expire_at)},
                      {"expires_in_seconds", left},
                      {"created_at", tempmail::detail::format_iso8601(r.created_at)},
                      {"email_token", r.token}};
}

Response list_response(const Request& req, const Context& ctx, const MailboxMessages& list) {
  const std::string o = origin(req, ctx);
  std::size_t size = 64 + list.mailbox.size();
  for (const auto& v : list.messages) size += fixed_fields_json(*v.message).size() + 64;
  std::string body;
  body.reserve(size);
  body += R"({"status":true,"mailbox":)";
  body += json::serialize(json::string_view(list.mailbox));
  body += R"(,"messages":[)";
  for (std::size_t i = 0; i < list.messages.size(); ++i) {
    if (i > 0) body += ',';
    append_message_json(body, list.messages[i], o);
  }
  body += "]}";
  return serialised_response(req, http::status::ok, std::move(body));
}

// The request target, split and percent-decoded.
struct Target {
  std::vector<std::string> segments;
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;

  [[nodiscard]] std::optional<std::string> param(std::string_view key) const {
    for (const auto& [k, v] : params)
      if (k == key) return v;
    return std::nullopt;
  }
};

std::optional<Target> parse_target(std::string_view target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return std::nullopt;
  Target t;
  t.path = std::string(parsed->encoded_path());
  for (auto seg : parsed->segments()) t.segments.push_back(seg);
  if (!t.segments.empty() && t.segments.back().empty()) t.segments.pop_back();  // trailing '/'
  for (auto p : parsed->params())
    t.params.emplace_back(p.key, p.has_value ? p.value : std::string());
  return t;
}

std::string_view bearer_key(const Request& req) {
  std::string_view h = req[http::field::authorization];
  if (h.size() > 7) return h.substr(7);
  return {};
}

Response unauthorized(const Request& req) {
  Response res = error(req, http::status::unauthorized,
                       "Missing or invalid API key: send 'Authorization: Bearer <your API key>' "
                       "with a key this server was started with");
  res.set(http::field::www_authenticate, "Bearer");
  return res;
}

void set_quota_headers(Response& res, const QuotaState& q) {
  res.set("X-RateLimit-Limit", std::to_string(q.limit));
  res.set("X-RateLimit-Used", std::to_string(q.used));
  res.set("X-RateLimit-Remaining", std::to_string(q.remaining()));
  res.set("X-RateLimit-Reset", tempmail::detail::format_iso8601(q.reset));
}

// --- /api ------------------------------------------------------------------

Response domains(const Request& req, Context& ctx, const Target& t) {
  const std::string requested = t.param("type").value_or("free");
  std::vector<std::string> allowed;
  for (const auto& d : ctx.store.domains())
    if (std::find(allowed.begin(), allowed.end(), d.type) == allowed.end())
      allowed.push_back(d.type);
  const std::string wanted = tempmail::detail::to_ascii_lower(requested);
  if (std::find(allowed.begin(), allowed.end(), wanted) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return error(
        req, http::status::forbidden,
        "Domain type '" + requested + "' is not allowed for this account; allowed types: " + list);
  }
  json::array allowed_json;
  for (const auto& a : allowed) allowed_json.push_back(json::value(a));
  json::array list;
  for (const auto& d : ctx.store.domains())
    if (d.type == wanted)
      list.push_back(
          json::object{{"domain", d.name}, {"type", capitalised(d.type)}, {"custom", false}});
  return json_response(
      req, http::status::ok,
      json::object{{"status", true},
                   {"data", json::object{{"requested_type", wanted},
                                         {"allowed_types", std::move(allowed_json)},
                                         {"domains", std::move(list)}}}});
}

Response mailbox_response(const Request& req, Context& ctx, const Outcome<MailboxRecord>& r) {
  if (!r.ok()) return status_error(req, r.status, r.reason);
  return json_response(
      req, http::status::ok,
      json::object{{"status", true}, {"data", mailbox_json(r.value, ctx.store.now())}});
}

Response attachment_response(const Request& req, const AttachmentView& view) {
  const StoredAttachment& a = view.attachment();
  Response res = make_response(req, http::status::ok);
  res.set(http::field::content_type,
          a.content_type.empty() ? "application/octet-stream" : a.content_type);
  std::string ascii;
  for (char c : a.name) ascii.push_back((c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '_');
  res.set(http::field::content_disposition,
          "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + pct(a.name));
  res.body() = a.data;
  res.prepare_payload();
  return res;
}

Response route_api(const Request& req, Context& ctx, const Target& t, const std::string& account) {
  const auto& s = t.segments;
  const auto method = req.method();
  if (s.size() == 2 && s[1] == "domains") {
    if (method != http::verb::get) return method_not_allowed(req, t.path, "GET");
    return domains(req, ctx, t);
  }
  if (s.size() >= 2 && s[1] == "emails") {
    if (s.size() == 2) {
      if (method != http::verb::post) return method_not_allowed(req, t.path, "POST");
      return mailbox_response(req, ctx, ctx.store.create_mailbox(account));
    }
    if (s.size() == 3) {
      if (method != http::verb::delete_) return method_not_allowed(req, t.path, "DELETE");
      Status st = ctx.store.delete_mailbox(account, s[2]);
      if (st != Status::kOk)
        return status_error(req, st,
                            "No mailbox " + s[2] +
                                " for this API key (never created, "
                                "deleted, or expired)");
      return json_response(
          req, http::status::ok,
          json::object{{"status", true}, {"message", "Email has been successfully deleted."}});
    }
    if (s.size() == 5) {
      if (method != http::verb::post) return method_not_allowed(req, t.path, "POST");
      return mailbox_response(req, ctx, ctx.store.switch_mailbox(account, s[2], s[3], s[4]));
    }
    return error(
        req, http::status::bad_request,
        "Bad path " + t.path +
            ": use /api/emails, /api/emails/{email} or /api/emails/{email}/{username}/{domain}");
  }
  if (s.size() >= 2 && s[1] == "messages") {
    if (s.size() == 2) {
      if (method != http::verb::get) return method_not_allowed(req, t.path, "GET");
      auto email = t.param("email");
      if (!email || email->empty())
        return error(req, http::status::bad_request,
                     "The 'email' query parameter is missing: GET /api/messages?email=ADDRESS");
      auto list = ctx.store.list_messages(account, *email);
      if (!list.ok()) return status_error(req, list.status, list.reason);
      return list_response(req, ctx, list.value);
    }
    if (s.size() == 3) {
      if (method == http::verb::get) {
        auto m = ctx.store.read_message(account, s[2]);
        if (!m.ok()) return status_error(req, m.status, m.reason);
        if (const auto& damage = m.value.message->fields().damage; !damage.empty())
          return error(req, http::status::internal_server_error,
                       "Message " + s[2] + " cannot be shown: " + damage +
                           ". It stays listed (with \"damaged\") until it is deleted with DELETE "
                           "/api/messages/" +
                           s[2] +
                           "; restoring the server's raw log from a "
                           "backup brings it back");
        std::string body = R"({"status":true,"data":)";
        append_message_json(body, m.value, origin(req, ctx));
        body += '}';
        return serialised_response(req, http::status::ok, std::move(body));
      }
      if (method == http::verb::delete_) {
        Status st = ctx.store.delete_message(account, s[2]);
        if (st != Status::kOk)
          return status_error(req, st,
                              "No message " + s[2] +
                                  " for this API key (deleted, or its "
                                  "mailbox expired)");
        return json_response(
            req, http::status::ok,
            json::object{{"status", true}, {"message", "Message was deleted successfully."}});
      }
      return method_not_allowed(req, t.path, "GET, DELETE");
    }
    if (s.size() == 5 && s[3] == "attachments") {
      if (method != http::verb::get) return method_not_allowed(req, t.path, "GET");
      auto a = ctx.store.attachment(account, s[2], s[4]);
      if (!a.ok()) return status_error(req, a.status, a.reason);
      return attachment_response(req, a.value);
    }
    return error(req, http::status::bad_request,
                 "Bad path " + t.path +
                     ": use /api/messages?email=..., /api/messages/{id} or "
                     "/api/messages/{id}/attachments/{name}");
  }
  return error(req, http::status::not_found,
               "No endpoint " + t.path +
                   ": see the API's eight endpoints under /api/domains, "
                   "/api/emails and /api/messages");
}

Response handle_api(const Request& req, Context& ctx, const Target& t) {
  auto account = ctx.keys.account_for_header(req[http::field::authorization]);
  if (!account) return unauthorized(req);
  QuotaState quota = ctx.store.quota(*account);
  if (quota.exhausted()) {
    Response res = error(req, http::status::too_many_requests,
                         "The monthly quota of " + std::to_string(quota.limit) +
                             " calls is used up: it resets at " +
                             tempmail::detail::format_iso8601(quota.reset));
    const auto wait = std::max<std::int64_t>(1, (quota.reset - ctx.store.now()).count());
    res.set(http::field::retry_after, std::to_string(wait));
    set_quota_headers(res, quota);
    return res;
  }
  Response res = route_api(req, ctx, t, *account);
  if (res.result_int() >= 200 && res.result_int() < 300) quota = ctx.store.count_call(*account);
  set_quota_headers(res, quota);
  return res;
}

// --- /_local ---------------------------------------------------------------

Response health(const Request& req, Context& ctx) {
  StoreStats s = ctx.store.stats();
  return json_response(req, http::status::ok,
                       json::object{{"status", true},
                                    {"version", TEMPMAIL_VERSION},
                                    {"mailboxes", static_cast<std::int64_t>(s.mailboxes)},
                                    {"messages", static_cast<std::int64_t>(s.messages)},
                                    {"queued", static_cast<std::int64_t>(s.queued)},
                                    {"waiting", static_cast<std::int64_t>(s.watchers)}});
}

Response inject(const Request& req, Context& ctx, const Target& t) {
  auto account = ctx.keys.account_for_header(req[http::field::authorization]);
  if (!account) return unauthorized(req);
  auto email = t.param("email");
  if (!email || email->empty())
    return error(req, http::status::bad_request,
                 "The 'email' query parameter is missing: POST /_local/messages?email=ADDRESS "
                 "with the raw RFC 5322 message as the body");
  if (req.body().empty())
    return error(req, http::status::bad_request,
                 "The body is empty: send the raw RFC 5322 message (headers, blank line, body)");
  auto r = ctx.store.inject(*account, *email, req.body());
  if (!r.ok()) return status_error(req, r.status, r.reason);
  return json_response(req, http::status::ok,
                       json::object{{"status", true}, {"data", json::object{{"id", r.value}}}});
}

json::object envelope_json(const Envelope& e) {
  json::array rcpt;
  for (const auto& r : e.rcpt_to) rcpt.emplace_back(tempmail::detail::make_valid_utf8(r));
  json::value tls = nullptr;
  if (e.tls) tls = json::object{{"version", e.tls->version}, {"cipher", e.tls->cipher}};
  json::value user = nullptr;
  if (e.auth_user) user = json::string(tempmail::detail::make_valid_utf8(*e.auth_user));
  return json::object{{"mail_from", tempmail::detail::make_valid_utf8(e.mail_from)},
                      {"rcpt_to", std::move(rcpt)},
                      {"helo", tempmail::detail::make_valid_utf8(e.helo)},
                      {"client", e.client},
                      {"tls", std::move(tls)},
                      {"auth_user", std::move(user)},
                      {"injected", e.injected}};
}

Response envelope(const Request& req, Context& ctx, const std::string& id) {
  auto account = ctx.keys.account_for_header(req[http::field::authorization]);
  if (!account) return unauthorized(req);
  auto e = ctx.store.envelope(*account, id);
  if (!e.ok()) return status_error(req, e.status, e.reason);
  return json_response(req, http::status::ok,
                       json::object{{"status", true}, {"data", envelope_json(*e.value)}});
}

std::variant<Response, WaitPlan> plan_wait(const Request& req, Context& ctx, const Target& t) {
  auto account = ctx.keys.account_for_header(req[http::field::authorization]);
  if (!account) return unauthorized(req);
  auto email = t.param("email");
  if (!email || email->empty())
    return error(req, http::status::bad_request,
                 "The 'email' query parameter is missing: GET /_local/wait?email=ADDRESS"
                 "[&after=MESSAGE_ID][&timeout=MILLISECONDS]");
  WaitPlan plan{.account = *account, .address = *email, .after_seq = 0, .timeout = kDefaultWait};
  if (auto after = t.param("after"); after && !after->empty()) {
    auto seq = ctx.store.message_seq(*account, *after);
    if (!seq.ok()) return status_error(req, seq.status, seq.reason);
    plan.after_seq = seq.value;
  }
  if (auto timeout = t.param("timeout")) {
    std::int64_t ms = -1;
    auto [end, ec] = std::from_chars(timeout->data(), timeout->data() + timeout->size(), ms);
    if (ec != std::errc{} || end != timeout->data() + timeout->size() || ms < 0)
      return error(req, http::status::bad_request,
                   "The 'timeout' parameter must be a whole number of milliseconds (0 to 300000)");
    plan.timeout = std::min(std::chrono::milliseconds{ms}, kMaxWait);
  }
  auto now = ctx.store.messages_after(plan.account, plan.address, plan.after_seq);
  if (!now.ok()) return status_error(req, now.status, now.reason);
  if (!now.value.messages.empty() || plan.timeout.count() == 0)
    return list_response(req, ctx, now.value);
  return plan;
}

template <class F>
auto guarded(const Request& req, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    // The only secret a handler sees is the presented key: keep it out.
    return error(req, http::status::internal_server_error,
                 "Internal error: " + tempmail::detail::redact(e.what(), bearer_key(req)) +
                     "; see the server's log");
  }
}

}  // namespace

bool is_wait_request(const Request& request) {
  auto t = parse_target(request.target());
  return request.method() == http::verb::get && t && t->segments.size() == 2 &&
         t->segments[0] == "_local" && t->segments[1] == "wait";
}

std::variant<Response, WaitPlan> begin_wait(const Request& request, Context& context) {
  return guarded(request, [&]() -> std::variant<Response, WaitPlan> {
    auto t = parse_target(request.target());
    if (!t)
      return error(request, http::status::bad_request, "The request target is not a valid path");
    return plan_wait(request, context, *t);
  });
}

Response finish_wait(const Request& request, Context& context, const WaitPlan& plan) {
  return guarded(request, [&]() -> Response {
    auto r = context.store.messages_after(plan.account, plan.address, plan.after_seq);
    if (!r.ok()) return status_error(request, r.status, r.reason);
    return list_response(request, context, r.value);
  });
}

Response handle_request(const Request& request, Context& context) {
  return guarded(request, [&]() -> Response {
    auto t = parse_target(request.target());
    if (!t)
      return error(request, http::status::bad_request,
                   "The request target is not a valid path: percent-encode it (RFC 3986)");
    const auto& s = t->segments;
    if (!s.empty() && s[0] == "api") return handle_api(request, context, *t);
    if (s.size() == 2 && s[0] == "_local") {
      if (s[1] == "health") {
        if (request.method() != http::verb::get) return method_not_allowed(request, t->path, "GET");
        return health(request, context);
      }
      if (s[1] == "messages") {
        if (request.method() != http::verb::post)
          return method_not_allowed(request, t->path, "POST");
        return inject(request, context, *t);
      }
      if (s[1] == "wait") {
        if (request.method() != http::verb::get) return method_not_allowed(request, t->path, "GET");
        auto r = plan_wait(request, context, *t);
        if (auto* res = std::get_if<Response>(&r)) return std::move(*res);
        // No waiting here: answer as a poll would.
        return finish_wait(request, context, std::get<WaitPlan>(r));
      }
    }
    if (s.size() == 4 && s[0] == "_local" && s[1] == "messages" && s[3] == "envelope") {
      if (request.method() != http::verb::get) return method_not_allowed(request, t->path, "GET");
      return envelope(request, context, s[2]);
    }
    return error(request, http::status::not_found,
                 "No endpoint " + t->path + ": the API lives under /api (see /_local/health)");
  });
}

}  // namespace tempmail::local::detail
