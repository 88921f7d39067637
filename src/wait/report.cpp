// The words a timed-out wait says: what it waited for, how long, how many
// polls, and every message that did arrive with why it did not match.
#include <cstdio>
#include <sstream>

#include "common/time.hpp"
#include "tempmail/wait.hpp"
#include "wait/quote.hpp"

namespace tempmail {
namespace {

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// Indents every line after the first of a multi-line explanation.
std::string indent_lines(const std::string& text, const std::string& indent) {
  std::string out;
  for (char c : text) {
    out.push_back(c);
    if (c == '\n') out += indent;
  }
  return out;
}

}  // namespace

std::string WaitReport::to_string() const {
  std::ostringstream os;
  os << "Timed out after " << seconds_text(waited) << " waiting for ";
  if (wanted_count == 1)
    os << "a message";
  else
    os << wanted_count << " messages";
  os << " in " << mailbox << " that " << wanted << " (" << polls
     << (long_poll ? (polls == 1 ? " long-poll" : " long-polls")
                   : (polls == 1 ? " poll" : " polls"));
  if (errors > 0) os << ", " << errors << " failed";
  os << ").";
  if (wanted_count > 1) os << " " << matched << " of " << wanted_count << " matched.";
  if (!last_error.empty()) os << "\nLast error: " << last_error;

  std::size_t fresh = 0;
  for (const auto& s : seen) fresh += s.returned_before ? 0 : 1;
  if (seen.empty()) {
    os << "\nNo message arrived. Check that the application sent to exactly this address, and"
          " that it reaches this server's SMTP listener (or the hosted service).";
    return os.str();
  }
  os << "\n" << seen.size() << (seen.size() == 1 ? " message" : " messages") << " arrived";
  if (fresh == 0)
    os << ", all returned by an earlier wait";
  else if (wanted_count == 1)
    os << ", none matched";
  os << ":";
  int n = 0;
  for (const auto& s : seen) {
    const Message& m = s.message;
    // Quoted and escaped: an attacker's subject must not drive the terminal.
    os << "\n  " << ++n << ". from ";
    if (!m.from_name.empty()) os << detail::quoted(m.from_name) << " ";
    os << "<" << detail::escaped(m.from_email) << "> at "
       << detail::format_received_at(m.received_at) << ", subject " << detail::quoted(m.subject);
    if (s.returned_before)
      os << "\n     (already returned by an earlier wait)";
    else if (!s.why_not.empty())
      os << "\n     " << indent_lines(s.why_not, "     ");
    else
      os << "\n     which does not match";
  }
  return os.str();
}

WaitTimeout::WaitTimeout(WaitReport report)
    : Error(report.to_string(), 0, {}, "GET /api/messages?email={email}"),
      report_(std::move(report)) {}

}  // namespace tempmail
