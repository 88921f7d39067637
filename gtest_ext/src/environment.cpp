#include "tempmail/gtest/environment.hpp"

#include <cstdlib>
#include <mutex>

namespace tempmail::gtest {
namespace {

Environment* g_registered = nullptr;

}  // namespace

Environment::Environment() {
  if (g_registered == nullptr) g_registered = this;
}

Environment::~Environment() {
  if (g_registered == this) g_registered = nullptr;
}

Environment& Environment::get() {
  if (g_registered != nullptr) {
    g_registered->ensure_set_up();
    return *g_registered;
  }
  // No environment registered: make one that lives until the program ends.
  static Environment* fallback = [] {
    auto* env = new Environment;
    ::testing::AddGlobalTestEnvironment(env);  // gtest owns and tears it down
    return env;
  }();
  fallback->ensure_set_up();
  return *fallback;
}

void Environment::SetUp() { ensure_set_up(); }

void Environment::TearDown() {
  client_.reset();
  server_.reset();
}

void Environment::ensure_set_up() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (client_) return;
  const char* key = std::getenv("TEMPMAIL_API_KEY");
  if (key != nullptr && *key != '\0') {
    client_.emplace(Client::from_env());
    return;
  }
  server_ = std::make_unique<local::Server>();
  client_.emplace(ClientOptions{.base_url = server_->base_url(), .api_key = server_->api_key()});
}

Client& Environment::client() {
  ensure_set_up();
  return *client_;
}

bool Environment::is_local() const { return server_ != nullptr; }

local::Server* Environment::local_server() { return server_.get(); }

std::string Environment::smtp_host() const { return server_ ? server_->smtp_host() : std::string(); }

std::uint16_t Environment::smtp_port() const { return server_ ? server_->smtp_port() : 0; }

}  // namespace tempmail::gtest
