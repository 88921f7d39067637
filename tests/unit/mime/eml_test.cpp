// tempmail::local::parse_eml: the public face of the server's MIME decoding.
#include "tempmail/local/eml.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace {

using ::testing::ElementsAre;
using ::testing::Field;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(TEMPMAIL_MIME_DATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ParseEml, GivesTheFieldsTheApiServes) {
  tempmail::Message m = tempmail::local::parse_eml(fixture("attachment_rfc2231_name.eml"));
  EXPECT_EQ(m.subject, "RFC 2231 file names");
  EXPECT_EQ(m.from_email, "sender@example.org");
  EXPECT_FALSE(m.html);
  EXPECT_EQ(m.content, "Two attachments with encoded names.\n");
  EXPECT_THAT(m.attachments,
              ElementsAre(AllOf(Field(&tempmail::Attachment::name, "€ rates 2026.txt"),
                                Field(&tempmail::Attachment::extension, "txt"),
                                Field(&tempmail::Attachment::size, 9u)),
                          AllOf(Field(&tempmail::Attachment::name, "über eine lange Liste.csv"),
                                Field(&tempmail::Attachment::extension, "csv"),
                                Field(&tempmail::Attachment::size, 12u))));
  EXPECT_TRUE(m.id.empty());
}

TEST(ParseEml, PrefersTheHtmlBody) {
  tempmail::Message m = tempmail::local::parse_eml(fixture("multipart_alternative_utf8.eml"));
  EXPECT_TRUE(m.html);
  EXPECT_THAT(m.content, ::testing::HasSubstr("<"));
}

}  // namespace
