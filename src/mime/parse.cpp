// How a message is read (the same rules as Python's email package, so the two
// can be compared over a corpus):
// - The body shown is EmailMessage.get_body()'s, with its default preferences
//   ('related', 'html', 'plain'): depth first, skipping parts with
//   "Content-Disposition: attachment", looking only at the root of a
//   multipart/related, never inside an attached message. An HTML part is
//   shown even when it is empty and a text/plain part comes before it.
// - Every other leaf part is an attachment (inline images with a Content-ID
//   included), except the unused renderings of a multipart/alternative.
//   An attached message (message/rfc822) is one attachment, not opened.
#include "mime/parse.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/ascii.hpp"
#include "mime/charset.hpp"
#include "mime/gmime_init.hpp"
#include "mime/gobject_ptr.hpp"

namespace tempmail::detail {
namespace {

// Deeper nesting than this is not real mail; parts below it are ignored.
constexpr int kMaxDepth = 64;
// File systems and URLs cope badly with longer names.
constexpr std::size_t kMaxNameBytes = 200;
constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

std::string lower(std::string_view text) { return tempmail::detail::to_ascii_lower(text); }

std::string str(const char* text) { return text == nullptr ? std::string() : std::string(text); }

// In place, copying the runs between CRs whole: this runs over every stored
// body, and byte by byte it was a tenth of SMTP ingest (bench/RESULTS.md).
std::string crlf_to_lf(std::string text) {
  const std::size_t n = text.size();
  char* data = text.data();
  std::size_t read = 0;
  std::size_t write = 0;
  while (read < n) {
    const void* cr = std::memchr(data + read, '\r', n - read);
    const std::size_t end =
        cr == nullptr ? n : static_cast<std::size_t>(static_cast<const char*>(cr) - data);
    if (write != read) std::memmove(data + write, data + read, end - read);
    write += end - read;
    read = end;
    if (read < n) {                                                       // data[read] is '\r'
      if (read + 1 >= n || data[read + 1] != '\n') data[write++] = '\r';  // a lone CR stays
      ++read;
    }
  }
  text.resize(write);
  return text;
}

struct MediaType {
  std::string type;     // lower case: "text"
  std::string subtype;  // lower case: "plain"
};

// RFC 2045 section 5.2: a syntactically invalid Content-Type ("text" with no
// subtype) is read as the default, text/plain. GMime says
// application/octet-stream there, which would hide the body.
MediaType media_type_of(GMimeObject* object) {
  const char* header = g_mime_object_get_header(object, "Content-Type");
  if (header != nullptr) {
    const std::string_view value(header);
    const std::string_view type = value.substr(0, value.find(';'));
    if (type.find('/') == std::string_view::npos) return {"text", "plain"};
  }
  GMimeContentType* content_type = g_mime_object_get_content_type(object);
  if (content_type == nullptr) return {"application", "octet-stream"};
  return {lower(str(g_mime_content_type_get_media_type(content_type))),
          lower(str(g_mime_content_type_get_media_subtype(content_type)))};
}

std::string mime_type_of(GMimeObject* object) {
  const MediaType media = media_type_of(object);
  return media.type + "/" + media.subtype;
}

// `subtype` "*" matches any subtype.
bool has_type(GMimeObject* object, std::string_view type, std::string_view subtype) {
  const MediaType media = media_type_of(object);
  return media.type == type && (subtype == "*" || media.subtype == subtype);
}

bool is_attachment_disposition(GMimeObject* object) {
  GMimeContentDisposition* disposition = g_mime_object_get_content_disposition(object);
  return disposition != nullptr && g_mime_content_disposition_is_attachment(disposition);
}

// The bytes GMime decoded from the part's transfer encoding (base64, QP, uu).
std::string decoded_content(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return {};
  GObjectPtr<GMimeStream> sink(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(content, sink.get()) < 0) return {};
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(sink.get()));
  if (bytes == nullptr || bytes->len == 0) return {};
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

// An attached message as it was received (GMime writes parsed parts back unchanged).
std::string serialized(GMimeObject* object) {
  GObjectPtr<GMimeStream> sink(g_mime_stream_mem_new());
  if (g_mime_object_write_to_stream(object, nullptr, sink.get()) < 0) return {};
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(sink.get()));
  if (bytes == nullptr || bytes->len == 0) return {};
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

std::string body_text(GMimeObject* object) {
  if (!GMIME_IS_PART(object)) return {};
  const std::string bytes = decoded_content(GMIME_PART(object));
  const char* charset = g_mime_object_get_content_type_parameter(object, "charset");
  return crlf_to_lf(to_utf8(bytes, charset == nullptr ? "" : charset));
}

// EmailMessage.get_body(preferencelist) over _find_body: depth first, the
// part whose kind comes earliest in `preferences` ("related", "html",
// "plain"), the first in document order among equals. Returns true once the
// most preferred kind is found (nothing can beat it).
struct BestBody {
  std::size_t rank;
  GMimeObject* part = nullptr;
};

bool find_body(GMimeObject* object, std::span<const std::string_view> preferences, int depth,
               BestBody& best) {
  if (object == nullptr || depth > kMaxDepth || is_attachment_disposition(object)) return false;
  const auto consider = [&](std::string_view kind) {
    const auto found = std::find(preferences.begin(), preferences.end(), kind);
    const auto rank = static_cast<std::size_t>(found - preferences.begin());
    if (found != preferences.end() && rank < best.rank) best = {rank, object};
    return best.rank == 0;
  };
  const MediaType media = media_type_of(object);
  if (media.type == "text") return GMIME_IS_PART(object) && consider(media.subtype);
  if (media.type != "multipart" || !GMIME_IS_MULTIPART(object)) return false;
  auto* multipart = GMIME_MULTIPART(object);
  const int count = g_mime_multipart_get_count(multipart);
  if (media.subtype == "related") {
    if (consider("related")) return true;
    // Only the root counts: the part named by "start", else the first one.
    GMimeObject* root = nullptr;
    const char* start = g_mime_object_get_content_type_parameter(object, "start");
    if (start != nullptr) {
      GCharPtr start_id(g_mime_utils_decode_message_id(start));
      for (int i = 0; i < count && root == nullptr && start_id; ++i) {
        GMimeObject* child = g_mime_multipart_get_part(multipart, i);
        const char* id = g_mime_object_get_content_id(child);
        if (id != nullptr && std::string_view(id) == start_id.get()) root = child;
      }
    }
    if (root == nullptr && count > 0) root = g_mime_multipart_get_part(multipart, 0);
    return find_body(root, preferences, depth + 1, best);
  }
  for (int i = 0; i < count; ++i) {
    if (find_body(g_mime_multipart_get_part(multipart, i), preferences, depth + 1, best))
      return true;
  }
  return false;
}

GMimeObject* get_body(GMimeObject* object, std::span<const std::string_view> preferences) {
  BestBody best{.rank = preferences.size()};
  find_body(object, preferences, 0, best);
  return best.part;
}

struct Bodies {
  GMimeObject* text = nullptr;  // the text/plain body
  GMimeObject* html = nullptr;  // the text/html body
  bool html_shown = false;      // the one a reader is shown is `html`
};

// What a reader is shown is get_body() with its default preferences
// ('related', 'html', 'plain'); a multipart/related found that way shows its
// root's body. The other rendering is the first of its type (get_body(('plain',))
// or (('html',))), so a message whose shown body is HTML still has its text.
Bodies choose_bodies(GMimeObject* root) {
  static constexpr std::array<std::string_view, 3> kShown{"related", "html", "plain"};
  static constexpr std::array<std::string_view, 2> kInRelated{"html", "plain"};
  static constexpr std::array<std::string_view, 1> kHtml{"html"};
  static constexpr std::array<std::string_view, 1> kPlain{"plain"};
  GMimeObject* shown = get_body(root, kShown);
  if (shown != nullptr && has_type(shown, "multipart", "related"))
    shown = get_body(shown, kInRelated);
  Bodies bodies;
  bodies.html_shown = shown != nullptr && has_type(shown, "text", "html");
  bodies.html = bodies.html_shown ? shown : get_body(root, kHtml);
  bodies.text = shown != nullptr && !bodies.html_shown ? shown : get_body(root, kPlain);
  return bodies;
}

// Leaf parts that are attachments, in document order.
void collect_attachments(GMimeObject* object, const std::set<GMimeObject*>& bodies, int depth,
                         std::vector<GMimeObject*>& out) {
  if (object == nullptr || depth > kMaxDepth) return;
  if (GMIME_IS_MULTIPART(object)) {
    auto* multipart = GMIME_MULTIPART(object);
    const bool alternative = has_type(object, "multipart", "alternative");
    const int count = g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i) {
      GMimeObject* child = g_mime_multipart_get_part(multipart, i);
      // Other renderings of the same content (text/enriched next to text/html)
      // are not attachments, unless the sender says so.
      if (alternative && !GMIME_IS_MULTIPART(child) && !is_attachment_disposition(child)) continue;
      collect_attachments(child, bodies, depth + 1, out);
    }
    return;
  }
  if (bodies.contains(object)) return;
  if (GMIME_IS_PART(object) || GMIME_IS_MESSAGE_PART(object)) out.push_back(object);
}

std::string extension_for(std::string_view mime_type) {
  // GMime has no MIME type -> extension table; these are the types mail carries.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 38> kExtensions{{
      {"application/gzip", "gz"},
      {"application/json", "json"},
      {"application/ms-tnef", "dat"},
      {"application/msword", "doc"},
      {"application/octet-stream", "bin"},
      {"application/pdf", "pdf"},
      {"application/pgp-encrypted", "pgp"},
      {"application/pgp-keys", "asc"},
      {"application/pgp-signature", "asc"},
      {"application/pkcs7-mime", "p7m"},
      {"application/pkcs7-signature", "p7s"},
      {"application/rtf", "rtf"},
      {"application/vnd.ms-excel", "xls"},
      {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"},
      {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
      {"application/x-pkcs7-signature", "p7s"},
      {"application/xml", "xml"},
      {"application/zip", "zip"},
      {"audio/mpeg", "mp3"},
      {"audio/wav", "wav"},
      {"image/bmp", "bmp"},
      {"image/gif", "gif"},
      {"image/jpeg", "jpg"},
      {"image/png", "png"},
      {"image/svg+xml", "svg"},
      {"image/tiff", "tif"},
      {"image/webp", "webp"},
      {"message/delivery-status", "txt"},
      {"message/global", "eml"},
      {"message/rfc822", "eml"},
      {"text/calendar", "ics"},
      {"text/css", "css"},
      {"text/csv", "csv"},
      {"text/html", "html"},
      {"text/markdown", "md"},
      {"text/plain", "txt"},
      {"text/xml", "xml"},
      {"video/mp4", "mp4"},
  }};
  const auto* found = std::find_if(kExtensions.begin(), kExtensions.end(),
                                   [&](const auto& entry) { return entry.first == mime_type; });
  if (found != kExtensions.end()) return std::string(found->second);
  if (mime_type.starts_with("text/")) return "txt";
  return "bin";
}

// Keeps the last path component, drops control characters and surrounding
// blanks, and bounds the length: the name ends up in a URL and a file system.
std::string sanitize_name(const std::string& raw) {
  std::string name = make_valid_utf8(raw);
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name.erase(0, slash + 1);
  std::erase_if(name, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  const auto first = name.find_first_not_of(' ');
  const auto last = name.find_last_not_of(' ');
  name = first == std::string::npos ? std::string() : name.substr(first, last - first + 1);
  if (name == "." || name == "..") return {};
  if (name.size() > kMaxNameBytes) {
    const auto dot = name.rfind('.');
    const std::string extension =
        dot != std::string::npos && name.size() - dot <= 16 ? name.substr(dot) : std::string();
    std::size_t cut = kMaxNameBytes - extension.size();
    // Do not cut a UTF-8 sequence in half: back up to a lead byte.
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    name = name.substr(0, cut) + extension;
  }
  return name;
}

// An RFC 2231 name with "%00" in it ("filename*=utf-8''a%00b.pdf") comes out
// of GMime cut at the NUL ("a"); read the header again with '?' there, as
// GMime itself does for a NUL in an RFC 2047 encoded word.
std::string name_without_nul(GMimeObject* object) {
  const auto with_question_marks = [](const char* header) -> std::optional<std::string> {
    if (header == nullptr || std::strstr(header, "%00") == nullptr) return std::nullopt;
    std::string value(header);
    for (auto at = value.find("%00"); at != std::string::npos; at = value.find("%00", at))
      value.replace(at, 3, "%3F");
    return value;
  };
  if (auto value = with_question_marks(g_mime_object_get_header(object, "Content-Disposition"))) {
    GObjectPtr<GMimeContentDisposition> parsed(
        g_mime_content_disposition_parse(nullptr, value->c_str()));
    const char* name =
        parsed ? g_mime_content_disposition_get_parameter(parsed.get(), "filename") : nullptr;
    if (name != nullptr) return name;
  }
  if (auto value = with_question_marks(g_mime_object_get_header(object, "Content-Type"))) {
    GObjectPtr<GMimeContentType> parsed(g_mime_content_type_parse(nullptr, value->c_str()));
    const char* name = parsed ? g_mime_content_type_get_parameter(parsed.get(), "name") : nullptr;
    if (name != nullptr) return name;
  }
  return {};
}

std::string declared_name(GMimeObject* object) {
  std::string name = name_without_nul(object);
  if (!name.empty()) return name;
  if (GMIME_IS_PART(object)) return str(g_mime_part_get_filename(GMIME_PART(object)));
  const char* filename = g_mime_object_get_content_disposition_parameter(object, "filename");
  return str(filename != nullptr ? filename
                                 : g_mime_object_get_content_type_parameter(object, "name"));
}

// "report.pdf" twice becomes "report.pdf" and "report-2.pdf": the API fetches
// an attachment by name, so names must be unique within a message. `next`
// remembers where each name's count goes on: counting from 2 every time made
// a message with 20000 parts all named "a.txt" take a minute (quadratic).
class UniqueNames {
 public:
  std::string take(const std::string& name) {
    if (taken_.insert(name).second) return name;
    const auto dot = name.rfind('.');
    const bool has_extension = dot != std::string::npos && dot != 0;
    const std::string stem = has_extension ? name.substr(0, dot) : name;
    const std::string extension = has_extension ? name.substr(dot) : std::string();
    int& n = next_.try_emplace(name, 2).first->second;
    for (;; ++n) {
      std::string candidate = stem + "-" + std::to_string(n) + extension;
      if (taken_.insert(candidate).second) {
        ++n;
        return candidate;
      }
    }
  }

 private:
  std::unordered_set<std::string> taken_;
  std::unordered_map<std::string, int> next_;
};

ParsedAttachment make_attachment(GMimeObject* object, std::size_t index) {
  ParsedAttachment attachment;
  attachment.content_type = make_valid_utf8(mime_type_of(object));
  attachment.name = sanitize_name(declared_name(object));
  if (attachment.name.empty()) {
    attachment.name =
        "attachment-" + std::to_string(index) + "." + extension_for(attachment.content_type);
  }
  if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (inner != nullptr) attachment.data = serialized(GMIME_OBJECT(inner));
  } else {
    attachment.data = decoded_content(GMIME_PART(object));
  }
  return attachment;
}

// The first mailbox of an address list, looking inside groups.
InternetAddressMailbox* first_mailbox(InternetAddressList* list, int depth = 0) {
  if (list == nullptr || depth > 4) return nullptr;
  const int count = internet_address_list_length(list);
  for (int i = 0; i < count; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(address)) return INTERNET_ADDRESS_MAILBOX(address);
    if (INTERNET_ADDRESS_IS_GROUP(address)) {
      auto* members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address));
      if (InternetAddressMailbox* found = first_mailbox(members, depth + 1)) return found;
    }
  }
  return nullptr;
}

// GMime gives up on a From it cannot parse as addresses ("MAILER DAEMON <>",
// a bounce's null sender); keep what a reader would see: the name, and the
// address between angle brackets (empty here).
std::pair<std::string, std::string> split_unparsed_from(std::string_view value) {
  const auto trim = [](std::string_view text) {
    const auto first = text.find_first_not_of(" \t\"");
    if (first == std::string_view::npos) return std::string();
    const auto last = text.find_last_not_of(" \t\"");
    return std::string(text.substr(first, last - first + 1));
  };
  const auto open = value.rfind('<');
  const auto close = value.find('>', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return {};
  return {trim(value.substr(0, open)), trim(value.substr(open + 1, close - open - 1))};
}

// The value of a boundary="..." (or boundary=token) parameter in a header
// section, or empty.
// Where `lower_name` first occurs in `text`, ignoring case, or npos.
std::size_t find_ignoring_case(std::string_view text, std::string_view lower_name) {
  return tempmail::detail::ifind(text, lower_name);
}

// An attached message's body starts with its own header section.
bool declares_message(std::string_view headers) {
  return find_ignoring_case(headers, "message/rfc822") != std::string_view::npos ||
         find_ignoring_case(headers, "message/global") != std::string_view::npos;
}

std::string_view boundary_in(std::string_view headers) {
  static constexpr std::string_view kName = "boundary=";
  const std::size_t at = find_ignoring_case(headers, kName);
  if (at == std::string_view::npos) return {};
  std::string_view value = headers.substr(at + kName.size());
  if (!value.empty() && value.front() == '"') {
    value.remove_prefix(1);
    return value.substr(0, value.find('"'));
  }
  return value.substr(0, value.find_first_of("; \t\r\n"));
}

// GMime hands every header value out as a C string, so a NUL byte in a header
// ("Subject: nul\0subject") would cut the value short there. The header
// sections (the message's and each MIME part's, found by the boundaries they
// declare, and an attached message's) get U+FFFD for each NUL before GMime
// sees them; bodies keep their
// bytes (a text body's NUL becomes U+FFFD when it is made valid UTF-8, an
// attachment keeps it).
std::string with_header_nuls_replaced(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + 64);
  std::vector<std::string_view> boundaries;
  bool in_headers = true;
  std::size_t section_start = 0;  // in `raw`, of the header section being read
  std::size_t pos = 0;
  while (pos < raw.size()) {
    const auto newline = raw.find('\n', pos);
    const std::size_t end = newline == std::string_view::npos ? raw.size() : newline + 1;
    const std::string_view line = raw.substr(pos, end - pos);
    pos = end;
    if (in_headers) {
      if (line == "\n" || line == "\r\n") {
        const std::string_view section = raw.substr(section_start, pos - section_start);
        // A view into `raw`: the boundary has no NUL, or it would not match a delimiter line.
        const std::string_view declared = boundary_in(section);
        if (!declared.empty()) boundaries.push_back(declared);
        in_headers = declared.empty() && declares_message(section);
        section_start = pos;
        out.append(line);
        continue;
      }
      for (const char c : line) {
        if (c == '\0') {
          out.append(kReplacementCharacter);
        } else {
          out.push_back(c);
        }
      }
      continue;
    }
    out.append(line);
    if (!line.starts_with("--")) continue;
    const std::string_view rest = line.substr(2);
    for (const std::string_view boundary : boundaries) {
      if (rest.starts_with(boundary) && !rest.substr(boundary.size()).starts_with("--")) {
        in_headers = true;
        section_start = pos;
        break;
      }
    }
  }
  return out;
}

ParsedMessage unparseable(std::string_view raw) {
  ParsedMessage out;
  out.text = crlf_to_lf(to_utf8(raw, ""));
  return out;
}

}  // namespace

ParsedMessage parse_message(std::string_view raw) {
  std::string replaced;
  if (!raw.empty() && std::memchr(raw.data(), 0, raw.size()) != nullptr) {
    replaced = with_header_nuls_replaced(raw);
    raw = replaced;
  }
  GMimeParserOptions* options = parser_options();
  // A view may carry a null pointer when empty; GMime wants a real buffer.
  const char* data = raw.empty() ? "" : raw.data();
  GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(data, raw.size()));
  GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  GObjectPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), options));
  if (!message) return unparseable(raw);

  ParsedMessage out;
  out.subject = make_valid_utf8(str(g_mime_message_get_subject(message.get())));
  if (InternetAddressMailbox* from = first_mailbox(g_mime_message_get_from(message.get()))) {
    out.from_name = make_valid_utf8(str(internet_address_get_name(INTERNET_ADDRESS(from))));
    out.from_email = make_valid_utf8(str(internet_address_mailbox_get_addr(from)));
  } else if (const char* value = g_mime_object_get_header(GMIME_OBJECT(message.get()), "From")) {
    auto [name, email] = split_unparsed_from(make_valid_utf8(value));
    out.from_name = std::move(name);
    out.from_email = std::move(email);
  }
  if (InternetAddressList* to = g_mime_message_get_to(message.get());
      to != nullptr && internet_address_list_length(to) > 0) {
    GCharPtr text(internet_address_list_to_string(to, nullptr, FALSE));
    out.to = make_valid_utf8(str(text.get()));
  }
  out.message_id = make_valid_utf8(str(g_mime_message_get_message_id(message.get())));

  GMimeObject* root = g_mime_message_get_mime_part(message.get());
  const Bodies bodies = choose_bodies(root);
  GMimeObject* text_part = bodies.text;
  GMimeObject* html_part = bodies.html;
  out.html_chosen = bodies.html_shown;
  if (text_part != nullptr) out.text = body_text(text_part);
  if (html_part != nullptr) out.html = body_text(html_part);
  if (text_part == nullptr && html_part == nullptr && root != nullptr && GMIME_IS_MULTIPART(root) &&
      g_mime_multipart_get_count(GMIME_MULTIPART(root)) == 0) {
    // A multipart whose boundary never occurs: show its body as text rather
    // than nothing (GMime keeps it all as the prologue).
    const char* prologue = g_mime_multipart_get_prologue(GMIME_MULTIPART(root));
    out.text = crlf_to_lf(to_utf8(str(prologue), ""));
  }

  std::set<GMimeObject*> body_parts;
  if (text_part != nullptr) body_parts.insert(text_part);
  if (html_part != nullptr) body_parts.insert(html_part);
  std::vector<GMimeObject*> parts;
  collect_attachments(root, body_parts, 0, parts);
  UniqueNames names;
  for (GMimeObject* part : parts) {
    ParsedAttachment attachment = make_attachment(part, out.attachments.size() + 1);
    attachment.name = names.take(attachment.name);
    out.attachments.push_back(std::move(attachment));
  }
  return out;
}

std::string extension_of(std::string_view name) {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return {};
  return lower(std::string(name.substr(dot + 1)));
}

}  // namespace tempmail::detail
