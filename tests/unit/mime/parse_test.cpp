// parse_message() over the fixtures in tests/data/mime (each named for what it
// shows) and over hostile input.
#include "mime/parse.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "mime/charset.hpp"

namespace tempmail::detail {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string fixture(const std::string& name) {
  const std::string path = std::string(TEMPMAIL_MIME_DATA_DIR) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

auto Named(const std::string& name) { return Field(&ParsedAttachment::name, name); }

TEST(ParseMessage, DecodesRfc2047SubjectAndSenderAndQuotedPrintableLatin1) {
  const ParsedMessage m = parse_message(fixture("qp_latin1_subject_rfc2047.eml"));
  EXPECT_EQ(m.subject, "Caf\u00e9 cr\u00e8me and caf\u00e9");
  EXPECT_EQ(m.from_name, "Fran\u00e7ois Lef\u00e8vre");
  EXPECT_EQ(m.from_email, "francois@example.org");
  EXPECT_EQ(m.to, "box@example.com");
  EXPECT_EQ(m.message_id, "qp-latin1@example.org");
  EXPECT_EQ(m.text,
            "Voil\u00e0 le caf\u00e9 cr\u00e8me, soft line break joined.\nEquals sign: =\n");
  EXPECT_EQ(m.html, "");
  EXPECT_FALSE(m.is_html());
}

TEST(ParseMessage, KeepsBothBodiesOfMultipartAlternative) {
  const ParsedMessage m = parse_message(fixture("multipart_alternative_utf8.eml"));
  EXPECT_EQ(m.subject, "Gr\u00fc\u00dfe \U0001F44B");
  EXPECT_EQ(m.from_name, "Zo\u00eb \u00c4rger");
  EXPECT_EQ(m.text, "Hallo, sch\u00f6ne Gr\u00fc\u00dfe! \U0001F44B\nYour code is 481516.\n");
  EXPECT_THAT(m.html, HasSubstr("<b>sch\u00f6ne</b>"));
  EXPECT_TRUE(m.is_html());
  EXPECT_EQ(m.content(), m.html);
  EXPECT_THAT(m.attachments, IsEmpty());
}

TEST(ParseMessage, FindsBodiesInsideRelatedAndCountsInlineImagesAsAttachments) {
  const ParsedMessage m = parse_message(fixture("nested_related_inline_image.eml"));
  EXPECT_EQ(m.text, "See the logo. Verify: https://example.org/verify?t=abc\n");
  EXPECT_THAT(m.html, HasSubstr("cid:logo@example.org"));
  EXPECT_THAT(m.attachments, ElementsAre(Named("attachment-1.png"), Named("invoice.pdf")));
  EXPECT_EQ(m.attachments[0].content_type, "image/png");
  EXPECT_EQ(m.attachments[0].data.substr(1, 3), "PNG");
  EXPECT_EQ(m.attachments[1].data, "%PDF-1.4\n% fake pdf for tests\n%%EOF\n");
}

TEST(ParseMessage, DecodesRfc2231AttachmentNamesIncludingContinuations) {
  const ParsedMessage m = parse_message(fixture("attachment_rfc2231_name.eml"));
  EXPECT_EQ(m.text, "Two attachments with encoded names.\n");
  ASSERT_EQ(m.attachments.size(), 2u);
  EXPECT_EQ(m.attachments[0].name, "\u20ac rates 2026.txt");
  EXPECT_EQ(m.attachments[0].data, "EUR rates");
  EXPECT_EQ(m.attachments[1].name, "\u00fcber eine lange Liste.csv");
  EXPECT_EQ(m.attachments[1].data, "a,b,c\n1,2,3\n");
}

TEST(ParseMessage, DecodesABase64HtmlOnlyMessage) {
  const ParsedMessage m = parse_message(fixture("base64_html_only.eml"));
  EXPECT_EQ(m.text, "");
  EXPECT_THAT(m.html, HasSubstr("\u00fcn\u00efc\u00f6d\u00e9"));
  EXPECT_THAT(m.html, HasSubstr("https://example.org/c?id=42&amp;x=1"));
  EXPECT_TRUE(m.is_html());
}

TEST(ParseMessage, FallsBackForABogusCharset) {
  const ParsedMessage m = parse_message(fixture("bogus_charset.eml"));
  EXPECT_EQ(m.text, "Caf\u00e9 in UTF-8 under a charset nobody knows.\n");
}

TEST(ParseMessage, ReadsUnlabelled8BitTextAsWindows1252) {
  const ParsedMessage m = parse_message(fixture("unlabelled_8bit_windows1252.eml"));
  EXPECT_EQ(m.text, "Caf\u00e9 \u20ac 5 \u2013 unlabelled windows-1252.\n");
}

TEST(ParseMessage, ConvertsStatefulIso2022Jp) {
  const ParsedMessage m = parse_message(fixture("iso2022jp_body.eml"));
  EXPECT_EQ(m.subject, "\u306b\u307b\u3093\u3054");
  EXPECT_EQ(m.from_name, "\u5c71\u7530");
  EXPECT_EQ(m.text, "\u3053\u3093\u306b\u3061\u306f\u3001\u4e16\u754c\u3002\n");
}

TEST(ParseMessage, TreatsAMessageWithoutContentTypeAsPlainText) {
  const ParsedMessage m = parse_message(fixture("no_content_type.eml"));
  EXPECT_EQ(m.from_name, "Plain Sender");
  EXPECT_EQ(m.text, "Just text, the RFC 822 way.\nSecond line.\n");
  EXPECT_THAT(m.attachments, IsEmpty());
}

TEST(ParseMessage, MakesUpNamesForAttachmentsWithoutOne) {
  const ParsedMessage m = parse_message(fixture("attachment_without_name.eml"));
  EXPECT_THAT(m.attachments, ElementsAre(Named("attachment-1.bin"), Named("attachment-2.png")));
  EXPECT_EQ(m.attachments[0].data.size(), 256u);
}

TEST(ParseMessage, MakesAttachmentNamesUniqueWithinAMessage) {
  const ParsedMessage m = parse_message(fixture("duplicate_attachment_names.eml"));
  EXPECT_THAT(m.attachments, ElementsAre(Named("report.txt"), Named("report-2.txt")));
  EXPECT_EQ(m.attachments[1].data, "second");
}

TEST(ParseMessage, NumbersRepeatedNamesPastNamesTheMessageAlreadyUses) {
  std::string raw = "Content-Type: multipart/mixed; boundary=B\n\n";
  for (const char* name : {"a.txt", "a-2.txt", "a.txt", "a.txt", "noext", "noext"})
    raw += std::string("--B\nContent-Disposition: attachment; filename=") + name + "\n\nx\n";
  raw += "--B--\n";
  EXPECT_THAT(parse_message(raw).attachments,
              ElementsAre(Named("a.txt"), Named("a-2.txt"), Named("a-3.txt"), Named("a-4.txt"),
                          Named("noext"), Named("noext-2")));
}

// Counting from 2 for every repeat was quadratic: 20000 parts named "a.txt"
// (1.7 MB) took a minute, and the store parses each message it receives.
TEST(ParseMessage, NamesTwentyThousandAttachmentsOfOneName) {
  std::string raw = "Content-Type: multipart/mixed; boundary=B\n\n";
  for (int i = 0; i < 20000; ++i)
    raw += "--B\nContent-Disposition: attachment; filename=a.txt\n\nx\n";
  raw += "--B--\n";
  const ParsedMessage m = parse_message(raw);
  ASSERT_EQ(m.attachments.size(), 20000u);
  EXPECT_EQ(m.attachments.back().name, "a-20000.txt");
}

TEST(ParseMessage, KeepsOnlyTheLastComponentOfAPathInAName) {
  const ParsedMessage m = parse_message(fixture("path_in_attachment_name.eml"));
  EXPECT_THAT(m.attachments, ElementsAre(Named("evil.txt")));
}

TEST(ParseMessage, KeepsAnAttachedMessageWholeAsOneAttachment) {
  const ParsedMessage m = parse_message(fixture("message_rfc822_attachment.eml"));
  EXPECT_EQ(m.text, "See the attached message.\n");
  ASSERT_THAT(m.attachments, ElementsAre(Named("original.eml")));
  EXPECT_EQ(m.attachments[0].content_type, "message/rfc822");
  EXPECT_THAT(m.attachments[0].data, HasSubstr("Subject: the original"));
  EXPECT_THAT(m.attachments[0].data, HasSubstr("Original body."));
}

TEST(ParseMessage, JoinsSoftLineBreaksAndFoldedSubjectsWithCrlfInput) {
  const ParsedMessage m = parse_message(fixture("crlf_qp_soft_breaks.eml"));
  EXPECT_EQ(m.subject, "Folded subject line");
  EXPECT_EQ(m.text,
            "Line one with a very long OTP sentence that is wrapped by the sender at "
            "seventy-six characters: 246810.\nLine two \u00e9.\n");
  EXPECT_THAT(m.text, Not(HasSubstr("\r")));
}

TEST(ParseMessage, DoesNotTakeATextAttachmentForTheBody) {
  const ParsedMessage m = parse_message(fixture("text_attachment_after_html.eml"));
  EXPECT_EQ(m.text, "");
  EXPECT_EQ(m.html, "<p>HTML body</p>");
  EXPECT_THAT(m.attachments, ElementsAre(Named("notes.txt")));
}

TEST(ParseMessage, ReadsAContentTypeWithoutSubtypeAsPlainText) {
  const ParsedMessage m =
      parse_message("From: a@b.test\nContent-Type: text; charset=us-ascii\n\nhello\n");
  EXPECT_EQ(m.text, "hello\n");
  EXPECT_THAT(m.attachments, IsEmpty());
}

TEST(ParseMessage, ShowsTheBodyOfAMultipartWhoseBoundaryNeverOccurs) {
  const ParsedMessage m = parse_message(
      "From: a@b.test\nContent-Type: multipart/mixed; boundary=\"nowhere\"\n\nplain words\n");
  EXPECT_EQ(m.text, "plain words\n");
}

TEST(ParseMessage, KeepsTheNameOfANullSender) {
  const ParsedMessage m = parse_message("From: MAILER DAEMON <>\nSubject: bounce\n\nx\n");
  EXPECT_EQ(m.from_name, "MAILER DAEMON");
  EXPECT_EQ(m.from_email, "");
}

// Issue 16: GMime gives header values out as C strings, which end at a NUL.
TEST(ParseMessage, ReplacesANulByteInAHeaderAndKeepsWhatFollows) {
  using namespace std::string_literals;
  const ParsedMessage m = parse_message(
      "From: \"Ann\0Bee\" <ann@example.org>\r\n"
      "To: box@example.com\r\n"
      "Subject: nul\0subject\r\n"
      "Content-Type: multipart/mixed; boundary=\"B\"\r\n"
      "\r\n"
      "--B\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "hello\0world\r\n"
      "--B\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename=\"a\0b.bin\"\r\n"
      "\r\n"
      "x\0y\r\n"
      "--B--\r\n"s);
  EXPECT_EQ(m.subject, "nul\uFFFDsubject");
  EXPECT_EQ(m.from_name, "Ann\uFFFDBee");
  EXPECT_EQ(m.from_email, "ann@example.org");
  EXPECT_EQ(m.text, "hello\uFFFDworld");
  ASSERT_THAT(m.attachments, ElementsAre(Named("a\uFFFDb.bin")));
  EXPECT_EQ(m.attachments[0].data, "x\0y"s);  // an attachment keeps its bytes
}

TEST(ParseMessage, ReplacesANulInAnAttachedMessagesHeaderAndKeepsWhatFollows) {
  using namespace std::string_literals;
  const ParsedMessage m = parse_message(
      "Content-Type: multipart/mixed; boundary=B\r\n\r\n"
      "--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
      "--B\r\nContent-Type: message/rfc822\r\n\r\n"
      "Subject: inner\0tail\r\nFrom: x@example.org\r\n\r\ninner body\r\n"
      "--B--\r\n"s);
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_THAT(m.attachments[0].data, HasSubstr("Subject: inner\uFFFDtail"));
  EXPECT_THAT(m.attachments[0].data, HasSubstr("inner body"));
}

TEST(ParseMessage, ReplacesAnEncodedNulInAHeaderAndKeepsWhatFollows) {
  const ParsedMessage m = parse_message(
      "From: =?utf-8?q?Ann=00Bee?= <ann@example.org>\n"
      "Subject: =?utf-8?q?nul=00subject?=\n"
      "Content-Type: multipart/mixed; boundary=B\n\n"
      "--B\nContent-Type: text/plain\n\nhi\n"
      "--B\nContent-Type: application/octet-stream\n"
      "Content-Disposition: attachment; filename*=utf-8''a%00b.bin\n\nxx\n"
      "--B--\n");
  EXPECT_EQ(m.subject, "nul?subject");  // GMime's replacement in encoded words
  EXPECT_EQ(m.from_name, "Ann?Bee");
  EXPECT_THAT(m.attachments, ElementsAre(Named("a?b.bin")));
}

// Python's get_body() (CPython's test_email corpus, msg_08/09/12/12a): in a
// multipart/mixed the HTML part is shown even after a text/plain one, even empty.
TEST(ParseMessage, ShowsTheHtmlPartOfAMixedMessageEvenAfterATextPart) {
  const ParsedMessage m = parse_message(
      "Content-Type: multipart/mixed; boundary=B\n\n"
      "--B\nContent-Type: text/plain\n\nthe text\n"
      "--B\nContent-Type: text/html\n\n\n"
      "--B--\n");
  EXPECT_TRUE(m.is_html());
  EXPECT_EQ(m.content(), "");
  EXPECT_EQ(m.text, "the text");
  EXPECT_THAT(m.attachments, IsEmpty());
}

// get_body()'s default preferences put 'related' first: a multipart/related
// shows its root, even when an HTML part came earlier.
TEST(ParseMessage, PrefersTheRootOfAMultipartRelatedToAnEarlierHtmlPart) {
  const ParsedMessage m = parse_message(
      "Content-Type: multipart/mixed; boundary=B\n\n"
      "--B\nContent-Type: text/html\n\n<p>earlier</p>\n"
      "--B\nContent-Type: multipart/related; boundary=R\n\n"
      "--R\nContent-Type: text/plain\n\nthe root\n"
      "--R\nContent-Type: image/png\nContent-ID: <i@x>\n\npng\n"
      "--R--\n"
      "--B--\n");
  EXPECT_FALSE(m.is_html());
  EXPECT_EQ(m.content(), "the root");
  EXPECT_EQ(m.html, "<p>earlier</p>");
}

TEST(ParseMessage, SurvivesEmptyAndHostileInput) {
  std::vector<std::string> inputs = {
      "",
      "\n\n\n",
      std::string(1, '\0'),
      std::string("Subject: nul\0byte\n\nbody\0more\n", 28),
      "no headers at all, just words",
      "Content-Type: multipart/mixed; boundary=\n\n--\n--\n",
      "Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: multipart/mixed; "
      "boundary=x\n\n--x\n--x--\n",
      "Content-Transfer-Encoding: base64\n\n!!!!====****\n",
      "Content-Type: text/plain; charset=\"\\\"\\\"\"\n\n\xff\xfe\n",
      "Subject: =?utf-8?b?AAAA?= =?bogus?q?x?= =?utf-8?q?=FF=FE?=\n\n",
      "From: \"unterminated <a@b\nTo: ,,,,<<<>>>\n\n",
      std::string(100000, 'A'),
      "Subject: " + std::string(100000, 'x') + "\n\n",
  };
  std::string binary;
  for (int i = 0; i < 65536; ++i) binary.push_back(static_cast<char>((i * 2654435761u) >> 24));
  inputs.push_back(binary);
  for (const auto& input : inputs) {
    ParsedMessage m;
    EXPECT_NO_THROW(m = parse_message(input));
    EXPECT_EQ(make_valid_utf8(m.text), m.text);
    EXPECT_EQ(make_valid_utf8(m.subject), m.subject);
  }
}

TEST(ParseMessage, SurvivesDeepNesting) {
  std::string raw = "Subject: deep\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n";
  constexpr int kDepth = 5000;
  for (int i = 1; i < kDepth; ++i) {
    raw += "--b" + std::to_string(i - 1) + "\nContent-Type: multipart/mixed; boundary=\"b" +
           std::to_string(i) + "\"\n\n";
  }
  raw += "--b" + std::to_string(kDepth - 1) + "\nContent-Type: text/plain\n\ndeep\n";
  const ParsedMessage m = parse_message(raw);
  EXPECT_EQ(m.subject, "deep");
}

TEST(ParseMessage, GivesTheSameAnswerFromManyThreadsAtOnce) {
  const std::vector<std::string> names = {"qp_latin1_subject_rfc2047.eml",
                                          "multipart_alternative_utf8.eml",
                                          "nested_related_inline_image.eml",
                                          "attachment_rfc2231_name.eml",
                                          "iso2022jp_body.eml",
                                          "unlabelled_8bit_windows1252.eml"};
  std::vector<std::string> raws;
  std::vector<ParsedMessage> expected;
  for (const auto& name : names) {
    raws.push_back(fixture(name));
    expected.push_back(parse_message(raws.back()));
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (std::size_t i = 0; i < raws.size(); ++i) {
          const ParsedMessage m = parse_message(raws[i]);
          if (m.subject != expected[i].subject || m.text != expected[i].text ||
              m.html != expected[i].html || m.attachments != expected[i].attachments) {
            ++mismatches[t];
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

// The first parses of a process on several threads at once (SMTP sessions right
// after start-up). ctest runs each test in its own process, so no parse ran
// before these and GMime makes its classes, caches and iconv converters on
// whichever thread comes first. Under ThreadSanitizer (scripts/run-sanitizers)
// this is the test that needs TSAN_OPTIONS=ignore_noninstrumented_modules=1.
TEST(ParseMessage, FirstParsesOfAProcessMayRunOnManyThreadsAtOnce) {
  const std::string raw = fixture("nested_related_inline_image.eml");
  constexpr int kThreads = 4;
  std::latch start(kThreads);
  std::vector<ParsedMessage> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      results[static_cast<std::size_t>(t)] = parse_message(raw);
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_THAT(results[0].text, HasSubstr("Verify:"));
  for (const ParsedMessage& m : results) {
    EXPECT_EQ(m.from_email, results[0].from_email);
    EXPECT_EQ(m.text, results[0].text);
    EXPECT_EQ(m.attachments, results[0].attachments);
  }
}

TEST(CharsetConversion, ReplacesUndecodableBytesAndKeepsGoing) {
  EXPECT_EQ(to_utf8("a\xff"
                    "b",
                    "utf-8"),
            "a\ufffd"
            "b");
  EXPECT_EQ(to_utf8("\x1b$B\x30", "iso-2022-jp"), "\ufffd");  // half a two-byte character
  EXPECT_EQ(to_utf8("caf\xe9", "latin1"), "caf\u00e9");
  EXPECT_EQ(to_utf8("caf\xe9", "  ISO-8859-1 "), "caf\u00e9");
  EXPECT_EQ(to_utf8("caf\xc3\xa9", ""), "caf\u00e9");
  EXPECT_EQ(to_utf8(std::string("a\0b", 3), "utf-8"),
            "a\ufffd"
            "b");  // NUL is not text
  EXPECT_EQ(to_utf8("abc", std::string("utf\0-8", 6)), "abc");
}

}  // namespace
}  // namespace tempmail::detail
