// The words a failed wait says: what it waited for (or said must not come),
// how long, how many polls, and every message that did arrive with why it
// did or did not match.
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

std::string polls_text(int polls, bool long_poll) {
  return std::to_string(polls) + (long_poll ? (polls == 1 ? " long-poll" : " long-polls")
                                            : (polls == 1 ? " poll" : " polls"));
}

std::string messages_text(std::size_t n) {
  if (n == 0) return "no message";
  return n == 1 ? "a message" : std::to_string(n) + " messages";
}

// "Timed out after 30.0 s waiting for a message in box@x that ... (7 polls)."
void timeout_headline(const WaitReport& r, std::ostream& os) {
  os << "Timed out after " << seconds_text(r.waited) << " waiting for "
     << (r.exactly && r.wanted_count > 1 ? "exactly " : "") << messages_text(r.wanted_count)
     << " in " << r.mailbox << " that " << r.wanted << " (" << polls_text(r.polls, r.long_poll);
  if (r.errors > 0) os << ", " << r.errors << " failed";
  os << ").";
  if (r.wanted_count > 1) os << " " << r.matched << " of " << r.wanted_count << " matched.";
}

// "Expected no message in box@x that ... within 5.0 s, but 1 matched after 1.2 s (2 long-polls)."
void unexpected_headline(const WaitReport& r, std::ostream& os) {
  os << "Expected ";
  if (r.wanted_count == 0)
    os << "no message";
  else
    os << "exactly " << r.wanted_count << (r.wanted_count == 1 ? " message" : " messages");
  os << " in " << r.mailbox << " that " << r.wanted;
  if (r.wanted_count == 0)
    os << " within " << seconds_text(r.settle);
  else
    os << " (and no more for " << seconds_text(r.settle) << " after)";
  os << ", but " << r.matched << " matched after " << seconds_text(r.waited) << " ("
     << polls_text(r.polls, r.long_poll);
  if (r.errors > 0) os << ", " << r.errors << " failed";
  os << ").";
}

void seen_list(const WaitReport& r, std::ostream& os) {
  int n = 0;
  for (const auto& s : r.seen) {
    const Message& m = s.message;
    // Quoted and escaped: an attacker's subject must not drive the terminal.
    os << "\n  " << ++n << ". from ";
    if (!m.from_name.empty()) os << detail::quoted(m.from_name) << " ";
    os << "<" << detail::escaped(m.from_email) << "> at "
       << detail::format_received_at(m.received_at) << ", subject " << detail::quoted(m.subject);
    if (s.returned_before)
      os << "\n     (already returned by an earlier wait)";
    else if (s.matched)
      os << "\n     (matched)" << (s.why_not.empty() ? "" : " " + indent_lines(s.why_not, "     "));
    else if (!s.why_not.empty())
      os << "\n     " << indent_lines(s.why_not, "     ");
    else
      os << "\n     which does not match";
  }
}

}  // namespace

std::string WaitReport::to_string() const {
  std::ostringstream os;
  const bool unexpected = exactly && matched > wanted_count;
  if (unexpected)
    unexpected_headline(*this, os);
  else
    timeout_headline(*this, os);
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
  else if (wanted_count == 1 && !unexpected)
    os << ", none matched";
  os << ":";
  seen_list(*this, os);
  return os.str();
}

WaitTimeout::WaitTimeout(WaitReport report)
    : Error(report.to_string(), 0, {}, "GET /api/messages?email={email}"),
      report_(std::move(report)) {}

UnexpectedMessage::UnexpectedMessage(WaitReport report)
    : Error(report.to_string(), 0, {}, "GET /api/messages?email={email}"),
      report_(std::move(report)) {}

}  // namespace tempmail
