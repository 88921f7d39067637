#include "tempmail/client.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <ostream>
#include <system_error>
#include <thread>

#include "client/decode.hpp"
#include "client/errors_map.hpp"
#include "client/retry.hpp"
#include "client/transport.hpp"
#include "client/url.hpp"
#include "common/random.hpp"

namespace tempmail {
namespace {

using detail::Method;
using Clock = std::chrono::steady_clock;

// One endpoint call: what to send and how to describe it in errors.
struct Call {
  Method method;
  std::string target;
  std::string endpoint;  // the template, "DELETE /api/emails/{email}"
  bool attachment = false;
  std::chrono::milliseconds hold{0};  // a long-poll: how long the server may wait
};

// A body destination that can be restarted before a retry (or not).
struct Sink {
  detail::BodySink write;
  std::function<void()> restart;  // empty: cannot be rewound once written to
};

void require_text(std::string_view value, const char* call, const char* name) {
  if (value.empty())
    throw std::invalid_argument(std::string("Client::") + call + ": " + name +
                                " must not be empty");
}

bool has_control_character(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

std::chrono::sys_seconds wall_now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace

struct Client::Impl {
  explicit Impl(ClientOptions o)
      : options(std::move(o)),
        transport(detail::TransportOptions{
            .base = detail::parse_base_url(options.base_url),
            .api_key = options.api_key,
            .user_agent = options.user_agent,
            .connect_timeout = options.connect_timeout,
            .request_timeout = options.request_timeout,
            .ca_file = options.ca_file,
            .max_idle_connections = options.max_idle_connections,
        }) {}

  ClientOptions options;
  detail::Transport transport;
  mutable std::mutex quota_mutex;
  std::optional<Quota> quota;
  // Whether the server has /_local/wait: 0 not asked yet, 1 yes, 2 no.
  std::atomic<int> long_poll_support{0};

  detail::ErrorContext context(const Call& call, std::string note = {}) const {
    return {.endpoint = call.endpoint,
            .note = std::move(note),
            .api_key = options.api_key,
            .limit_option = call.attachment ? "ClientOptions::max_attachment_bytes"
                                            : "ClientOptions::max_response_bytes"};
  }

  // Sends the call, retrying per the policy; returns the first 2xx response
  // or throws the typed error of the last failure.
  detail::HttpResponse execute(const Call& call, const CallOptions& opts, const Sink* sink) {
    const RetryPolicy policy = opts.retry.value_or(options.retry);
    if (opts.retry) {
      try {
        policy.validate();
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("CallOptions.retry: ") + e.what());
      }
    }
    const detail::HttpRequest request{
        .method = call.method,
        .target = call.target,
        .body_limit = call.attachment ? options.max_attachment_bytes : options.max_response_bytes,
        .hold = call.hold};
    const Clock::time_point first_try = Clock::now();
    for (int attempt = 1;; ++attempt) {
      detail::Failure failure;
      std::function<std::exception_ptr(std::string)> make_error;
      try {
        detail::HttpResponse response =
            transport.perform(request, opts.deadline, sink ? &sink->write : nullptr);
        std::optional<Quota> q = detail::parse_quota(response);
        if (q) {
          std::lock_guard lock(quota_mutex);
          quota = q;
        }
        if (response.status >= 200 && response.status <= 299) return response;
        const auto retry_at =
            response.status == 429 ? detail::quota_retry_at(response, q, wall_now()) : std::nullopt;
        failure = {.kind = detail::FailureKind::kStatus,
                   .status = response.status,
                   .retry_at = retry_at,
                   .repeatable = true};
        make_error = [this, &call, response = std::move(response), q, retry_at](std::string note) {
          return detail::status_error(response.status, response.body,
                                      context(call, std::move(note)), q, retry_at);
        };
      } catch (const detail::TransportFailure& f) {
        failure = {.kind = f.kind(),
                   .request_sent = f.request_sent(),
                   .repeatable = f.streamed == 0 || (sink != nullptr && sink->restart)};
        make_error = [this, &call, f](std::string note) {
          return detail::transport_error(f, context(call, std::move(note)));
        };
      }
      const detail::RetryDecision decision =
          detail::decide_retry(call.method, failure, policy,
                               {.attempts_made = attempt,
                                .first_try = first_try,
                                .now = Clock::now(),
                                .deadline = opts.deadline,
                                .wall_now = wall_now(),
                                .unit_random = detail::random_unit()});
      if (!decision.retry) std::rethrow_exception(make_error(decision.reason));
      if (decision.delay.count() > 0) std::this_thread::sleep_for(decision.delay);
      if (sink != nullptr && sink->restart) sink->restart();
    }
  }

  // A JSON call: the body decoded by `decode`, with decode errors completed.
  template <class Decode>
  auto json_call(const Call& call, const CallOptions& opts, Decode decode) {
    detail::HttpResponse response = execute(call, opts, nullptr);
    try {
      return decode(response.body);
    } catch (const DecodeError& e) {
      std::rethrow_exception(detail::decode_error(e, response.status, context(call)));
    }
  }

  Call attachment_call(std::string_view message_id, std::string_view name, const char* fn) const {
    require_text(message_id, fn, "message_id");
    require_text(name, fn, "name");
    return {Method::kGet, detail::make_target({"api", "messages", message_id, "attachments", name}),
            "GET /api/messages/{id}/attachments/{name}", true};
  }
};

Client::Client(ClientOptions options) {
  if (options.api_key.empty())
    throw std::invalid_argument(
        "ClientOptions.api_key is empty: set it to your Temp Mail API key (or use "
        "Client::from_env() with TEMPMAIL_API_KEY)");
  if (has_control_character(options.api_key))
    throw std::invalid_argument(
        "ClientOptions.api_key contains a control character (a stray newline?)");
  if (has_control_character(options.user_agent))
    throw std::invalid_argument("ClientOptions.user_agent contains a control character");
  if (options.connect_timeout.count() <= 0)
    throw std::invalid_argument("ClientOptions.connect_timeout must be positive");
  if (options.request_timeout.count() <= 0)
    throw std::invalid_argument("ClientOptions.request_timeout must be positive");
  if (options.max_response_bytes == 0)
    throw std::invalid_argument("ClientOptions.max_response_bytes must be positive");
  if (options.max_attachment_bytes == 0)
    throw std::invalid_argument("ClientOptions.max_attachment_bytes must be positive");
  try {
    options.retry.validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("ClientOptions.retry: ") + e.what());
  }
  impl_ = std::make_unique<Impl>(std::move(options));
}

Client Client::from_env(ClientOptions defaults) {
  const char* key = std::getenv("TEMPMAIL_API_KEY");
  if (key == nullptr || *key == '\0')
    throw std::invalid_argument(
        "TEMPMAIL_API_KEY is not set: export it with your Temp Mail API key (for a "
        "tempmail::local::Server, its api_key())");
  defaults.api_key = key;
  if (const char* url = std::getenv("TEMPMAIL_BASE_URL"); url != nullptr) {
    // Set but empty is a mistake (an unset variable in a CI file), never a
    // reason to send the tests to the hosted service.
    if (*url == '\0')
      throw std::invalid_argument(
          "TEMPMAIL_BASE_URL is set but empty: set it to the API's http(s)://HOST[:PORT], or "
          "unset it for " +
          defaults.base_url);
    defaults.base_url = url;
  }
  return Client(std::move(defaults));
}

Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

DomainList Client::domains(std::string_view type, CallOptions opts) {
  const Call call{Method::kGet, detail::make_target({"api", "domains"}, {{"type", type}}),
                  "GET /api/domains?type={type}"};
  return impl_->json_call(call, opts, detail::decode_domain_list);
}

MailboxInfo Client::create_mailbox(CallOptions opts) {
  const Call call{Method::kPost, detail::make_target({"api", "emails"}), "POST /api/emails"};
  return impl_->json_call(call, opts, detail::decode_mailbox_info);
}

MailboxInfo Client::switch_mailbox(std::string_view current_email, std::string_view username,
                                   std::string_view domain, CallOptions opts) {
  require_text(current_email, "switch_mailbox", "current_email");
  require_text(username, "switch_mailbox", "username");
  require_text(domain, "switch_mailbox", "domain");
  const Call call{Method::kPost,
                  detail::make_target({"api", "emails", current_email, username, domain}),
                  "POST /api/emails/{current_email}/{username}/{domain}"};
  return impl_->json_call(call, opts, detail::decode_mailbox_info);
}

void Client::delete_mailbox(std::string_view email, CallOptions opts) {
  require_text(email, "delete_mailbox", "email");
  const Call call{Method::kDelete, detail::make_target({"api", "emails", email}),
                  "DELETE /api/emails/{email}"};
  impl_->json_call(call, opts, detail::decode_ack);
}

MessageList Client::messages(std::string_view email, CallOptions opts) {
  require_text(email, "messages", "email");
  const Call call{Method::kGet, detail::make_target({"api", "messages"}, {{"email", email}}),
                  "GET /api/messages?email={email}"};
  return impl_->json_call(call, opts, detail::decode_message_list);
}

Message Client::message(std::string_view id, CallOptions opts) {
  require_text(id, "message", "id");
  const Call call{Method::kGet, detail::make_target({"api", "messages", id}),
                  "GET /api/messages/{id}"};
  return impl_->json_call(call, opts, detail::decode_message);
}

void Client::delete_message(std::string_view id, CallOptions opts) {
  require_text(id, "delete_message", "id");
  const Call call{Method::kDelete, detail::make_target({"api", "messages", id}),
                  "DELETE /api/messages/{id}"};
  impl_->json_call(call, opts, detail::decode_ack);
}

std::string Client::attachment(std::string_view message_id, std::string_view name,
                               CallOptions opts) {
  const Call call = impl_->attachment_call(message_id, name, "attachment");
  std::string bytes;
  const Sink sink{[&bytes](std::string_view chunk) { bytes.append(chunk); },
                  [&bytes] { bytes.clear(); }};
  impl_->execute(call, opts, &sink);
  return bytes;
}

std::uint64_t Client::download_attachment(std::string_view message_id, std::string_view name,
                                          const std::filesystem::path& file, CallOptions opts) {
  const Call call = impl_->attachment_call(message_id, name, "download_attachment");
  // Written beside the target and renamed over it only when complete, so the
  // file is never left half-written.
  std::filesystem::path temp = file;
  temp += ".part-" + detail::random_alnum(8);
  std::ofstream out;
  auto open = [&] {
    out.close();
    out.clear();
    out.open(temp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw std::filesystem::filesystem_error(
          "Client::download_attachment: cannot create the temporary file beside the target", temp,
          std::error_code(errno, std::generic_category()));
  };
  const Sink sink{[&](std::string_view chunk) {
                    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
                    if (!out)
                      throw std::filesystem::filesystem_error(
                          "Client::download_attachment: writing the temporary file failed", temp,
                          std::error_code(errno, std::generic_category()));
                  },
                  open};
  try {
    open();
    const detail::HttpResponse response = impl_->execute(call, opts, &sink);
    out.close();
    if (!out)
      throw std::filesystem::filesystem_error(
          "Client::download_attachment: closing the temporary file failed", temp,
          std::error_code(errno, std::generic_category()));
    std::filesystem::rename(temp, file);
    return response.streamed;
  } catch (...) {
    out.close();
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

std::uint64_t Client::download_attachment(std::string_view message_id, std::string_view name,
                                          std::ostream& out, CallOptions opts) {
  const Call call = impl_->attachment_call(message_id, name, "download_attachment");
  const Sink sink{[&out](std::string_view chunk) {
                    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
                    if (!out)
                      throw std::runtime_error(
                          "Client::download_attachment: writing to the output stream failed");
                  },
                  {}};
  return impl_->execute(call, opts, &sink).streamed;
}

bool Client::supports_long_poll(CallOptions opts) {
  int known = impl_->long_poll_support.load();
  if (known != 0) return known == 1;
  const Call call{Method::kGet, detail::make_target({"_local", "health"}), "GET /_local/health"};
  bool yes = false;
  try {
    // Within the caller's deadline: a wait's question must not outlast the wait.
    impl_->json_call(call, {.deadline = opts.deadline, .retry = RetryPolicy::none()},
                     detail::decode_ack);
    yes = true;
  } catch (const HttpError&) {
    // Any HTTP answer but a local server's health report: not offered.
  } catch (const DecodeError&) {
  }
  // A transport error propagates and nothing is remembered: ask again next time.
  impl_->long_poll_support.store(yes ? 1 : 2);
  return yes;
}

std::optional<MessageList> Client::long_poll(std::string_view email, std::string_view after_id,
                                             std::chrono::milliseconds hold, CallOptions opts) {
  require_text(email, "long_poll", "email");
  if (hold.count() < 0) throw std::invalid_argument("Client::long_poll: hold must not be negative");
  if (!supports_long_poll(opts)) return std::nullopt;
  const std::string ms = std::to_string(hold.count());
  const Call call{
      .method = Method::kGet,
      .target = after_id.empty()
                    ? detail::make_target({"_local", "wait"}, {{"email", email}, {"timeout", ms}})
                    : detail::make_target({"_local", "wait"},
                                          {{"email", email}, {"after", after_id}, {"timeout", ms}}),
      .endpoint = "GET /_local/wait?email={email}&after={id}&timeout={ms}",
      .hold = hold};
  return impl_->json_call(call, opts, detail::decode_message_list);
}

std::optional<Quota> Client::last_quota() const {
  std::lock_guard lock(impl_->quota_mutex);
  return impl_->quota;
}

const ClientOptions& Client::options() const noexcept { return impl_->options; }

}  // namespace tempmail
