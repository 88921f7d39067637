// mime_dump FILE...: prints, for each file, one JSON line with what
// parse_message() made of it, in the shape the API serves plus both bodies:
//   {"file", "subject", "from_name", "from_email", "to", "message_id",
//    "html": bool, "content", "text_body", "html_body",
//    "attachments": [{"name", "content_type", "size", "sha256"}]}
// test_mime_corpus.py compares it with what Python's email package decodes.
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "mime/parse.hpp"

namespace {

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

boost::json::object dump(const std::string& file, const tempmail::detail::ParsedMessage& m) {
  boost::json::array attachments;
  for (const auto& a : m.attachments) {
    attachments.push_back({{"name", a.name},
                           {"content_type", a.content_type},
                           {"size", a.data.size()},
                           {"sha256", sha256_hex(a.data)}});
  }
  return {{"file", file},
          {"subject", m.subject},
          {"from_name", m.from_name},
          {"from_email", m.from_email},
          {"to", m.to},
          {"message_id", m.message_id},
          {"html", m.is_html()},
          {"content", m.content()},
          {"text_body", m.text},
          {"html_body", m.html},
          {"attachments", std::move(attachments)}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: mime_dump FILE...\n"
                 "Prints one JSON line per file with what parse_message() decoded.\n";
    return 2;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::cerr << "mime_dump: cannot read " << argv[i] << ": check the path and permissions\n";
      status = 1;
      continue;
    }
    const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::cout << boost::json::serialize(dump(argv[i], tempmail::detail::parse_message(raw)))
              << '\n';
  }
  return status;
}
