// Sample messages for the extraction tests, read from tests/data/extract.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tempmail/message.hpp"

namespace tempmail::samples {

/// The bytes of tests/data/extract/<name>; throws naming the path when missing.
inline std::string fixture(std::string_view name) {
  std::string path = std::string(TEMPMAIL_TEST_DATA_DIR) + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read test fixture " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// An HTML message with that body and subject.
inline Message html_message(std::string html, std::string subject = "") {
  Message m;
  m.subject = std::move(subject);
  m.html = true;
  m.content = std::move(html);
  return m;
}

/// A plain-text message with that body and subject.
inline Message text_message(std::string text, std::string subject = "") {
  Message m;
  m.subject = std::move(subject);
  m.html = false;
  m.content = std::move(text);
  return m;
}

/// An HTML message whose body is the fixture file `name`.
inline Message html_fixture(std::string_view name, std::string subject = "") {
  return html_message(fixture(name), std::move(subject));
}

}  // namespace tempmail::samples
