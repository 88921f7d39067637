// Raw RFC 5322 bytes -> the fields the API serves, decoded with GMime.
// Pure function of its input: no I/O, no global state beyond GMime's one-time
// init, safe to call from several threads at once; fuzzed (issue #7).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tempmail::detail {

struct ParsedAttachment {
  std::string name;          // UTF-8 (RFC 2047 / RFC 2231 decoded); never empty (a name is made up)
  std::string content_type;  // "application/pdf"
  std::string data;          // decoded bytes (base64 / quoted-printable undone)

  bool operator==(const ParsedAttachment&) const = default;
};

struct ParsedMessage {
  std::string subject;     // RFC 2047 decoded, UTF-8
  std::string from_name;   // display name of the first From mailbox, decoded; may be empty
  std::string from_email;  // addr-spec of the first From mailbox; may be empty
  std::string to;          // the To header as decoded text (the store sets the mailbox address)
  std::string message_id;  // Message-ID header without <>, may be empty
  std::string text;        // the text/plain body, UTF-8, empty when none
  std::string html;        // the text/html body, UTF-8, empty when none
  std::vector<ParsedAttachment> attachments;
  // get_body(('html', 'plain')) chose a text/html part, even an empty one
  // (Python shows that part, not the text/plain one beside it).
  bool html_chosen = false;

  /// What the API serves as `content`: the HTML body when one was chosen, else the text.
  [[nodiscard]] bool is_html() const { return html_chosen; }
  [[nodiscard]] const std::string& content() const { return is_html() ? html : text; }
};

/// The extension the API lists for an attachment name: what follows the last
/// '.', lower-cased; empty when there is none ("report.PDF" -> "pdf").
std::string extension_of(std::string_view name);

/// Never throws on bad input: a message GMime cannot make sense of is kept as
/// well as possible (at worst, its whole raw text as the text body).
ParsedMessage parse_message(std::string_view raw);

}  // namespace tempmail::detail
