#include "tempmail/mailbox.hpp"

#include <iostream>

#include "wait/wait_loop.hpp"

namespace tempmail {

Mailbox::Mailbox(Client& client, MailboxOptions options)
    : client_(&client), wait_options_(options.wait) {
  wait_options_.backoff.validate();
  info_ = client_->create_mailbox();
  if (!options.username) return;
  // The API creates random addresses only; a chosen one is a switch of a new one.
  const std::string domain = options.domain.value_or(info_.domain);
  try {
    info_ = client_->switch_mailbox(info_.email, *options.username, domain);
  } catch (...) {
    try {
      client_->delete_mailbox(info_.email);
    } catch (const Error&) {
      // The switch's error is the one worth reporting; the random box expires anyway.
    }
    throw;
  }
}

Mailbox::Mailbox(Client& client, MailboxInfo info, WaitOptions wait, bool owned)
    : client_(&client), info_(std::move(info)), wait_options_(wait), owned_(owned) {
  wait_options_.backoff.validate();
}

Mailbox Mailbox::attach(Client& client, std::string address, WaitOptions wait) {
  MailboxInfo info;
  info.email = std::move(address);
  if (auto at = info.email.rfind('@'); at != std::string::npos)
    info.domain = info.email.substr(at + 1);
  return Mailbox(client, std::move(info), wait, /*owned=*/false);
}

Mailbox::Mailbox(Mailbox&& other) noexcept
    : client_(other.client_),
      info_(std::move(other.info_)),
      wait_options_(other.wait_options_),
      owned_(std::exchange(other.owned_, false)),
      seen_(std::move(other.seen_)),
      returned_(std::move(other.returned_)),
      cursor_(std::move(other.cursor_)),
      last_report_(std::move(other.last_report_)) {}

Mailbox& Mailbox::operator=(Mailbox&& other) noexcept {
  if (this != &other) {
    Mailbox old(std::move(*this));  // deletes the mailbox this handle owned, at scope end
    client_ = other.client_;
    info_ = std::move(other.info_);
    wait_options_ = other.wait_options_;
    owned_ = std::exchange(other.owned_, false);
    seen_ = std::move(other.seen_);
    returned_ = std::move(other.returned_);
    cursor_ = std::move(other.cursor_);
    last_report_ = std::move(other.last_report_);
  }
  return *this;
}

Mailbox::~Mailbox() {
  if (!owned_) return;
  try {
    client_->delete_mailbox(info_.email);
  } catch (const NotFoundError&) {
    // Expired or deleted elsewhere: nothing left to clean up.
  } catch (const std::exception& e) {
    std::cerr << "tempmail: could not delete mailbox " << info_.email << ": " << e.what()
              << " (it expires on its own at its TTL)\n";
  }
}

void Mailbox::remove() {
  if (!owned_) return;
  client_->delete_mailbox(info_.email);
  owned_ = false;
}

std::vector<Message> Mailbox::run_wait(const MessagePredicate& predicate,
                                       const detail::WaitGoal& goal) {
  detail::ClientWaitDriver driver(*client_);
  detail::WaitMemory memory{.seen = seen_, .returned = returned_, .cursor = cursor_};
  return detail::wait_loop(driver, info_.email, predicate, goal, wait_options_, memory,
                           last_report_);
}

Message Mailbox::wait_for(const MessagePredicate& predicate, std::chrono::milliseconds timeout) {
  return run_wait(predicate, {.count = 1, .timeout = timeout}).front();
}

std::vector<Message> Mailbox::wait_for_count(const MessagePredicate& predicate, std::size_t count,
                                             std::chrono::milliseconds timeout) {
  if (count == 0) return {};
  return run_wait(predicate, {.count = count, .timeout = timeout});
}

void Mailbox::expect_none(const MessagePredicate& predicate, std::chrono::milliseconds window) {
  run_wait(predicate, {.count = 0, .timeout = window, .exact = true, .settle = window});
}

std::vector<Message> Mailbox::wait_for_exactly(const MessagePredicate& predicate, std::size_t count,
                                               std::chrono::milliseconds timeout,
                                               std::chrono::milliseconds settle) {
  return run_wait(predicate, {.count = count, .timeout = timeout, .exact = true, .settle = settle});
}

std::vector<Message> Mailbox::messages() {
  MessageList list = client_->messages(info_.email);
  detail::remember_new(list, seen_);  // so timeout reports and artifacts show them
  return std::move(list.messages);
}

}  // namespace tempmail
