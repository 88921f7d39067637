// The local server's HTTP API as a pure function of the request:
// handle_request never touches a socket, so it is unit-tested and fuzzed
// without a network. The session (http_server.cpp) only moves bytes.
//
// Endpoints (the Temp Mail user API, /work/shared/spec/API-CONTRACT.md):
//   GET    /api/domains?type=free
//   POST   /api/emails
//   POST   /api/emails/{current_email}/{username}/{domain}
//   DELETE /api/emails/{email}
//   GET    /api/messages?email={email}
//   GET    /api/messages/{id}                       (marks the message seen)
//   DELETE /api/messages/{id}
//   GET    /api/messages/{id}/attachments/{name}    (raw bytes)
// Every /api request needs `Authorization: Bearer <key>` (401 otherwise) and
// carries the X-RateLimit-* headers; calls are counted only on 2xx, and 429
// (with Retry-After) answers once the month's quota is used up.
//
// Local extras, never under /api (they do not exist on the hosted service):
//   GET  /_local/health
//        No auth. {"status": true, "version": "0.1.0", "mailboxes": N,
//        "messages": N, "queued": N, "waiting": N} (queued: deliveries not yet
//        committed; waiting: long-polls in progress).
//   POST /_local/messages?email=ADDRESS     body: a raw RFC 5322 message
//        Auth required (the mailbox must be the key's). Stored through the same
//        path as SMTP delivery; answers after the commit with
//        {"status": true, "data": {"id": "<message id>"}}. Not counted in the quota.
//   GET  /_local/messages/{id}/envelope
//        Auth required. What the SMTP session said: {"status": true, "data":
//        {"mail_from": "...", "rcpt_to": ["..."], "helo": "...", "client":
//        "IP:PORT", "tls": null | {"version": "TLSv1.3", "cipher": "..."},
//        "auth_user": null | "...", "injected": false}} (injected: stored with
//        POST /_local/messages, whose envelope holds only rcpt_to). 404 for
//        another key's message. Not counted in the quota; does not mark seen.
//   GET  /_local/wait?email=ADDRESS[&after=ID][&timeout=MS]
//        Auth required. Long-poll: answers as soon as the mailbox holds a
//        message newer than message ID (any message when `after` is absent),
//        or when `timeout` (default 30000, at most 300000 ms) passes, with the
//        list endpoint's shape holding only the newer messages (possibly
//        none). handle_request answers it at once (a poll); the session makes
//        it wait. Not counted in the quota.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include "local/http/auth.hpp"
#include "local/store/store.hpp"

namespace tempmail::local::detail {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// What the handlers need; shared by every connection (all members are thread-safe).
struct Context {
  Store& store;
  const Keyring& keys;
  /// "http" or "https": with the request's Host header, the origin of attachment URLs.
  std::string scheme = "http";
  /// Used for attachment URLs when the request has no usable Host header.
  std::string base_url;
};

/// Never throws: failures become a JSON error response (500 at worst).
Response handle_request(const Request& request, Context& context);

/// A long-poll the session has to carry out.
struct WaitPlan {
  std::string account;
  std::string address;
  std::int64_t after_seq = 0;
  std::chrono::milliseconds timeout{0};
};

/// True for GET /_local/wait (the one endpoint that may wait).
bool is_wait_request(const Request& request);
/// Either an immediate response (bad request, 401, 404, or messages already
/// there) or the plan to wait for.
std::variant<Response, WaitPlan> begin_wait(const Request& request, Context& context);
/// The answer once the wait ends (woken or timed out): the messages after
/// `plan.after_seq`, possibly none; 404 when the mailbox went away.
Response finish_wait(const Request& request, Context& context, const WaitPlan& plan);

}  // namespace tempmail::local::detail
