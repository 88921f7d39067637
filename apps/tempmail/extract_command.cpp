// extract: the one-time code and verification link of a message given as an
// .eml file, HTML or plain text (a file or stdin). Offline: no API key needed.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "common.hpp"
#include "extraction_json.hpp"
#include "tempmail/extract.hpp"
#include "tempmail/local/eml.hpp"

namespace tempmail::cli {
namespace {

enum class InputKind { kEml, kHtml, kText };

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// An RFC 5322 message: header fields ("Name: value", continuation lines
// starting with white space) up to a blank line or the end, at least one of
// them a field every message has. An mbox "From " line before them is allowed.
bool looks_like_eml(std::string_view input) {
  static constexpr std::string_view kKnown[] = {
      "from",         "to",       "subject",     "date",         "message-id", "mime-version",
      "content-type", "received", "return-path", "delivered-to", "reply-to",   "sender"};
  bool known = false;
  bool any = false;
  std::size_t pos = 0;
  if (input.starts_with("From ")) pos = std::min(input.find('\n'), input.size());
  if (pos < input.size() && input[pos] == '\n') ++pos;
  while (pos < input.size()) {
    std::size_t end = std::min(input.find('\n', pos), input.size());
    std::string_view line = input.substr(pos, end - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    pos = end + 1;
    if (line.empty()) break;  // the end of the header
    if (line.front() == ' ' || line.front() == '\t') {
      if (!any) return false;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    const std::string_view name = line.substr(0, colon);
    // RFC 5322 3.6.8: printable US-ASCII except ':'; no space.
    if (!std::all_of(name.begin(), name.end(), [](char c) { return c > 32 && c < 127; }))
      return false;
    any = true;
    known =
        known || std::find(std::begin(kKnown), std::end(kKnown), lower(name)) != std::end(kKnown);
  }
  return known;
}

// HTML: a start or end tag ("<p>", "<a href=...>", "</div>", "<br/>") or a
// doctype/comment. "<user@host>" and "<https://...>" in text are not tags.
bool looks_like_html(std::string_view input) {
  for (std::size_t at = input.find('<'); at != std::string_view::npos;
       at = input.find('<', at + 1)) {
    std::size_t i = at + 1;
    if (i < input.size() && (input[i] == '!')) return true;
    if (i < input.size() && input[i] == '/') ++i;
    if (i >= input.size() || !std::isalpha(static_cast<unsigned char>(input[i]))) continue;
    while (i < input.size() &&
           (std::isalnum(static_cast<unsigned char>(input[i])) || input[i] == '-'))
      ++i;
    if (i < input.size() &&
        (input[i] == '>' || input[i] == '/' || std::isspace(static_cast<unsigned char>(input[i]))))
      return true;
  }
  return false;
}

InputKind sniff(std::string_view input) {
  if (looks_like_eml(input)) return InputKind::kEml;
  if (looks_like_html(input)) return InputKind::kHtml;
  return InputKind::kText;
}

std::string read_input(const std::string& file) {
  if (file == "-") {
    std::ostringstream all;
    all << std::cin.rdbuf();
    return all.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw UsageError("cannot read '" + file + "': " + std::strerror(errno) +
                     "; give an .eml, HTML or text file, or - for stdin");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Message to_message(const std::string& input) {
  switch (sniff(input)) {
    case InputKind::kEml:
      return local::parse_eml(input);
    case InputKind::kHtml:
      return Message{.html = true, .content = input};
    case InputKind::kText:
      break;
  }
  return Message{.html = false, .content = input};
}

void run_extract(const std::string& file, bool as_json) {
  const Extraction x = extract(to_message(read_input(file)));
  if (as_json) {
    print_json(extraction_json(x));
    return;
  }
  if (x.otp.code) {
    write_stdout(*x.otp.code + '\n');
    return;
  }
  if (x.verification_link) {
    write_stdout(x.verification_link->url + '\n');
    return;
  }
  throw CommandFailed("nothing found: no one-time code and no verification link.\n" +
                      describe_otp_failure(x.otp) + "\n" + describe_link_failure(x) +
                      "\nUse --json to see everything that was extracted.");
}

}  // namespace

void add_extract_command(CLI::App& app, Commands& commands) {
  struct Args {
    std::string file = "-";
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand(
      "extract", "Find the one-time code and verification link in an email (offline)");
  sub->add_option("FILE", args->file,
                  "an RFC 5322 message (.eml), HTML, or plain text; - or nothing: stdin")
      ->capture_default_str();
  sub->add_flag("--json", args->json, "print everything that was found as JSON");
  sub->footer(
      "The input is read as an .eml when it starts with mail headers and a blank line, as HTML\n"
      "when it has tags, else as plain text. Without --json: prints the one-time code, or when\n"
      "there is none the verification link, one line; exit 1 when there is neither. With\n"
      "--json: {\"otp\": string|null, \"otp_candidates\": [{\"value\", \"score\", "
      "\"reason\"}...],\n"
      "\"verification_link\": string|null, \"links\": [{\"url\", \"text\"}...]} (web links only).");
  commands.push_back({sub, [args] { run_extract(args->file, args->json); }});
}

}  // namespace tempmail::cli
