#include "tempmail/gtest/mailbox_test.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "tempmail/extract.hpp"

namespace tempmail::gtest {
namespace {

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string_view(v) != "" && std::string_view(v) != "0";
}

// Keeps file names portable whatever the test or message id contains.
std::string safe_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out;
}

void write_file(const std::filesystem::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

}  // namespace

void MailboxTest::SetUp() {
  mailbox_.emplace(environment().client(), mailbox_options());
  RecordProperty("tempmail_mailbox", mailbox_->address());
}

void MailboxTest::TearDown() {
  if (!mailbox_) return;
  if (HasFailure()) {
    if (const char* dir = std::getenv("TEMPMAIL_ARTIFACTS_DIR"); dir != nullptr && *dir != '\0') {
      const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
      const auto path = std::filesystem::path(dir) /
                        safe_name(std::string(info->test_suite_name()) + "." + info->name());
      try {
        save_artifacts(path);
        std::cerr << "tempmail: the messages of " << mailbox_->address() << " are in " << path
                  << "\n";
      } catch (const std::exception& e) {
        ADD_FAILURE() << "tempmail: could not write artifacts to " << path << ": " << e.what();
      }
    }
    if (env_flag("TEMPMAIL_KEEP_ON_FAILURE")) {
      mailbox_->release();
      std::cerr << "tempmail: kept mailbox " << mailbox_->address()
                << " (TEMPMAIL_KEEP_ON_FAILURE is set)\n";
    }
  }
  try {
    mailbox_->remove();
  } catch (const NotFoundError&) {
    // Already gone (expired or deleted by the test).
  } catch (const std::exception& e) {
    ADD_FAILURE() << "tempmail: could not delete mailbox " << mailbox_->address() << ": "
                  << e.what();
  }
  mailbox_.reset();
}

void MailboxTest::save_artifacts(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  try {
    (void)mailbox_->messages();  // adds what arrived after the last wait to seen()
  } catch (const Error& e) {
    write_file(dir / "list-error.txt", e.what());
  }
  const std::vector<Message>& all = mailbox_->seen();
  std::string index = "mailbox: " + mailbox_->address() + "\n";
  int n = 0;
  for (const auto& m : all) {
    const std::string stem = (n < 9 ? "0" : "") + std::to_string(n + 1) + "-" + safe_name(m.id);
    ++n;
    if (m.html) {
      write_file(dir / (stem + ".html"), m.content);
      write_file(dir / (stem + ".txt"), visible_text(m));  // what a person sees
    } else {
      write_file(dir / (stem + ".txt"), m.content);
    }
    write_file(dir / (stem + ".json"), to_json(m));
    index += stem + ": from " + m.from_email + ", subject \"" + m.subject + "\"\n";
  }
  write_file(dir / "index.txt", index);
}

}  // namespace tempmail::gtest
