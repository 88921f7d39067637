#include "local/smtp/command.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "common/ascii.hpp"

namespace tempmail::local::detail {
namespace {

using tempmail::detail::ascii_upper;
using tempmail::detail::iequals;
using tempmail::detail::istarts_with;
using tempmail::detail::trim;

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_upper);
  return out;
}

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), is_control);
}

// Well-formed UTF-8 (RFC 3629): SMTPUTF8 allows it in addresses, nothing else.
bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    static constexpr std::array<std::uint32_t, 4> kMin{0, 0x80, 0x800, 0x10000};
    if (code < kMin[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

CommandError error(int code, std::string enhanced, std::string text) {
  return CommandError{code, std::move(enhanced), std::move(text)};
}

SmtpCommand failed(SmtpCommand command, CommandError why) {
  command.error = std::move(why);
  return command;
}

struct Path {
  std::string mailbox;
  std::string_view rest;  // what follows the path: the parameters
  std::optional<CommandError> error;
};

// RFC 5321 Path = "<" [ A-d-l ":" ] Mailbox ">"; also a bare mailbox without
// brackets, which many clients send. A quoted local part may hold '>' or ' '.
Path parse_path(std::string_view text, bool is_sender) {
  const std::string_view enhanced = is_sender ? "5.1.7" : "5.1.3";
  const std::string_view which = is_sender ? "sender" : "recipient";
  const auto syntax = [&](std::string_view detail) {
    return Path{{},
                {},
                error(501, std::string(enhanced),
                      "Bad " + std::string(which) + " address syntax: " + std::string(detail))};
  };
  std::string_view inner;
  std::string_view rest;
  if (!text.empty() && text.front() == '<') {
    bool quoted = false;
    std::size_t close = std::string_view::npos;
    for (std::size_t i = 1; i < text.size(); ++i) {
      const char c = text[i];
      if (quoted && c == '\\') {
        ++i;  // quoted-pair: the next character is literal
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == '>' && !quoted) {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) return syntax("missing '>'");
    inner = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ' ') return syntax("expected a space after '>'");
  } else {
    const auto space = text.find(' ');
    inner = text.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : text.substr(space);
  }
  // An obsolete source route ("@relay1,@relay2:user@host") is ignored (RFC 5321 C.).
  if (!inner.empty() && inner.front() == '@') {
    const auto colon = inner.find(':');
    if (colon == std::string_view::npos) return syntax("source route without ':'");
    inner = inner.substr(colon + 1);
  }
  if (inner.size() + 2 > kMaxPathLength) return syntax("longer than 256 octets");
  if (has_control(inner)) return syntax("control character");
  if (!is_utf8(inner)) return syntax("not UTF-8");
  if (inner.empty()) {
    if (is_sender) return Path{{}, rest, std::nullopt};  // null reverse-path: bounces
    return syntax("empty mailbox");
  }
  // Spaces only inside a quoted local part.
  bool quoted = false;
  std::size_t at = std::string_view::npos;
  for (std::size_t i = 0; i < inner.size(); ++i) {
    const char c = inner[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == ' ') {
      return syntax("space in the address");
    } else if (!quoted && (c == '<' || c == '>')) {
      return syntax("stray angle bracket");
    } else if (!quoted && c == '@') {
      at = i;
    }
  }
  if (quoted) return syntax("unterminated quoted string");
  if (at == std::string_view::npos) {
    // RFC 5321 4.5.1: RCPT TO:<Postmaster> needs no domain.
    if (!is_sender && iequals(inner, "postmaster")) return Path{std::string(inner), rest, {}};
    return syntax("no domain (expected local@domain)");
  }
  if (at == 0) return syntax("empty local part");
  if (at + 1 == inner.size()) return syntax("empty domain");
  return Path{std::string(inner), rest, std::nullopt};
}

// MAIL parameters (RFC 5321 esmtp-param): SIZE=n, BODY=7BIT|8BITMIME, SMTPUTF8.
std::optional<CommandError> parse_mail_parameters(std::string_view text, SmtpCommand& command) {
  while (true) {
    text = trim(text);
    if (text.empty()) return std::nullopt;
    const auto end = text.find(' ');
    const std::string_view parameter = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end);
    const auto equals = parameter.find('=');
    const std::string_view keyword = parameter.substr(0, equals);
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view() : parameter.substr(equals + 1);
    const bool has_value = equals != std::string_view::npos;
    if (iequals(keyword, "SIZE")) {
      std::uint64_t size = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), size);
      if (!has_value || value.empty() || ec != std::errc() || ptr != value.data() + value.size())
        return error(501, "5.5.4", "SIZE needs a number of octets (SIZE=12345)");
      command.size = size;
    } else if (iequals(keyword, "BODY")) {
      if (iequals(value, "7BIT")) {
        command.body = MailBody::k7Bit;
      } else if (iequals(value, "8BITMIME")) {
        command.body = MailBody::k8BitMime;
      } else {
        return error(501, "5.5.4", "BODY must be 7BIT or 8BITMIME");
      }
    } else if (iequals(keyword, "SMTPUTF8")) {
      if (has_value) return error(501, "5.5.4", "SMTPUTF8 takes no value");
      command.smtputf8 = true;
    } else {
      std::string shown(keyword.substr(0, 64));
      std::replace_if(shown.begin(), shown.end(), is_control, '?');
      return error(555, "5.5.4", "Unsupported MAIL parameter " + shown);
    }
  }
}

SmtpCommand parse_mail_or_rcpt(SmtpCommand command, std::string_view rest) {
  const bool is_mail = command.verb == SmtpVerb::kMail;
  const std::string_view keyword = is_mail ? "FROM:" : "TO:";
  if (!istarts_with(rest, keyword)) {
    return failed(std::move(command),
                  error(501, "5.5.2",
                        is_mail ? "Syntax: MAIL FROM:<address> [SIZE=n] [BODY=8BITMIME]"
                                : "Syntax: RCPT TO:<address>"));
  }
  rest = rest.substr(keyword.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);  // "FROM: <a@b>"
  Path path = parse_path(rest, is_mail);
  if (path.error) return failed(std::move(command), std::move(*path.error));
  command.address = std::move(path.mailbox);
  if (is_mail) {
    if (auto bad = parse_mail_parameters(path.rest, command))
      return failed(std::move(command), std::move(*bad));
  } else if (!trim(path.rest).empty()) {
    // No RCPT extension (DSN's NOTIFY/ORCPT) is advertised.
    return failed(std::move(command), error(555, "5.5.4", "RCPT TO takes no parameters here"));
  }
  return command;
}

// AUTH mechanism [initial-response] (RFC 4954 4); a mechanism name is
// 1 to 20 of A-Z, 0-9, "-" and "_" (RFC 4422 3.1), in any case here.
SmtpCommand parse_auth(SmtpCommand command, std::string_view rest) {
  rest = trim(rest);
  const auto space = rest.find(' ');
  const std::string_view mechanism = rest.substr(0, space);
  const std::string_view response =
      space == std::string_view::npos ? std::string_view() : trim(rest.substr(space));
  const bool name_ok = !mechanism.empty() && mechanism.size() <= 20 &&
                       std::all_of(mechanism.begin(), mechanism.end(), [](char c) {
                         return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '_';
                       });
  if (!name_ok) {
    return failed(std::move(command),
                  error(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]"));
  }
  if (response.find(' ') != std::string_view::npos || has_control(response)) {
    return failed(std::move(command),
                  error(501, "5.5.2", "The initial response must be one base64 word"));
  }
  command.argument = upper(mechanism);
  if (space != std::string_view::npos && !response.empty()) {
    command.initial_response = std::string(response);
  }
  return command;
}

constexpr std::array<std::pair<std::string_view, SmtpVerb>, 12> kVerbs{{
    {"HELO", SmtpVerb::kHelo},
    {"EHLO", SmtpVerb::kEhlo},
    {"MAIL", SmtpVerb::kMail},
    {"RCPT", SmtpVerb::kRcpt},
    {"DATA", SmtpVerb::kData},
    {"RSET", SmtpVerb::kRset},
    {"NOOP", SmtpVerb::kNoop},
    {"QUIT", SmtpVerb::kQuit},
    {"VRFY", SmtpVerb::kVrfy},
    {"HELP", SmtpVerb::kHelp},
    {"AUTH", SmtpVerb::kAuth},
    {"STARTTLS", SmtpVerb::kStartTls},
}};

constexpr std::array<std::string_view, 9> kNotImplemented{"EXPN", "TURN", "ETRN", "ATRN",   "BDAT",
                                                          "SEND", "SOML", "SAML", "XCLIENT"};

}  // namespace

SmtpCommand parse_command(std::string_view line) {
  // Trailing blanks are common (and harmless); leading ones are not SMTP.
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  const auto space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view() : line.substr(space + 1);

  SmtpCommand command;
  if (verb.empty() || verb.size() > 16 || !std::all_of(verb.begin(), verb.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
      })) {
    return command;  // kUnknown: 500
  }
  command.verb_text = upper(verb);
  const auto* known = std::find_if(kVerbs.begin(), kVerbs.end(), [&](const auto& entry) {
    return entry.first == command.verb_text;
  });
  if (known == kVerbs.end()) {
    if (std::find(kNotImplemented.begin(), kNotImplemented.end(), command.verb_text) !=
        kNotImplemented.end()) {
      command.verb = SmtpVerb::kNotImplemented;
    }
    return command;
  }
  command.verb = known->second;

  switch (command.verb) {
    case SmtpVerb::kHelo:
    case SmtpVerb::kEhlo: {
      const std::string_view domain = trim(rest).substr(0, trim(rest).find(' '));
      if (domain.empty()) {
        return failed(std::move(command),
                      error(501, "5.5.4", command.verb_text + " needs your domain name"));
      }
      if (has_control(domain) || domain.size() > 255) {
        return failed(std::move(command), error(501, "5.5.4", "Invalid domain name"));
      }
      command.argument = std::string(domain);
      return command;
    }
    case SmtpVerb::kMail:
    case SmtpVerb::kRcpt:
      return parse_mail_or_rcpt(std::move(command), rest);
    case SmtpVerb::kData:
    case SmtpVerb::kRset:
    case SmtpVerb::kQuit:
    case SmtpVerb::kStartTls:
      if (!trim(rest).empty()) {
        return failed(std::move(command),
                      error(501, "5.5.4", command.verb_text + " takes no argument"));
      }
      return command;
    case SmtpVerb::kVrfy:
      if (trim(rest).empty()) {
        return failed(std::move(command), error(501, "5.5.4", "VRFY needs an argument"));
      }
      command.argument = std::string(trim(rest));
      return command;
    case SmtpVerb::kNoop:
    case SmtpVerb::kHelp:
      command.argument = std::string(trim(rest));
      return command;
    case SmtpVerb::kAuth:
      return parse_auth(std::move(command), rest);
    case SmtpVerb::kNotImplemented:
    case SmtpVerb::kUnknown:
      break;
  }
  return command;
}

}  // namespace tempmail::local::detail
