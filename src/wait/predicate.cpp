#include <ostream>
#include <sstream>
#include <vector>

#include "tempmail/extract.hpp"
#include "tempmail/wait.hpp"
#include "wait/quote.hpp"

namespace tempmail {

MessagePredicate::MessagePredicate(MatchFunction match, DescribeFunction describe)
    : match_(std::move(match)), describe_(std::move(describe)) {
  if (!match_) throw std::invalid_argument("MessagePredicate needs a match function");
  if (!describe_) describe_ = [](std::ostream* os) { *os << "satisfies the given predicate"; };
}

MessagePredicate MessagePredicate::any() {
  return MessagePredicate([](const Message&, std::ostream*) { return true; },
                          [](std::ostream* os) { *os << "is any message"; });
}

bool MessagePredicate::matches(const Message& message, std::ostream* explain) const {
  return match_(message, explain);
}

std::string MessagePredicate::explain(const Message& message) const {
  std::ostringstream os;
  match_(message, &os);
  return os.str();
}

std::string MessagePredicate::description() const {
  std::ostringstream os;
  describe_(&os);
  return os.str();
}

void MessagePredicate::describe_text(std::ostream* os, const std::string& text) { *os << text; }

}  // namespace tempmail

// --- Patterns over the parts of a message --------------------------------------

namespace tempmail {
namespace {

std::string sender_text(const Message& m) {
  return m.from_name.empty() ? "<" + m.from_email + ">" : m.from_name + " <" + m.from_email + ">";
}

// "<noun> matching /p/", explained "whose <noun> "text" [does not] match /p/"
// with the last of the texts (the fullest form) shown.
template <class Texts, class Show>
MessagePredicate part_matches(const char* noun, Pattern pattern, Texts texts, Show show) {
  auto match = [noun, pattern, texts, show](const Message& m, std::ostream* os) {
    const std::vector<std::string> candidates = texts(m);
    bool found = false;
    for (const auto& text : candidates) found = found || pattern.found_in(text);
    if (os != nullptr)
      *os << "whose " << noun << " " << show(candidates.back())
          << (found ? " matches " : " does not match ") << pattern;
    return found;
  };
  auto describe = [noun, pattern](std::ostream* os) { *os << noun << " matching " << pattern; };
  return MessagePredicate(std::move(match), [describe](std::ostream* os) {
    *os << "has ";
    describe(os);
  });
}

std::string show_short(const std::string& text) { return detail::quoted(text); }
std::string show_body(const std::string& text) { return detail::quoted_with_size(text); }

}  // namespace

MessagePredicate operator&&(const MessagePredicate& a, const MessagePredicate& b) {
  auto match = [a, b](const Message& m, std::ostream* os) {
    if (os == nullptr) return a.matches(m) && b.matches(m);
    std::ostringstream why_a;
    std::ostringstream why_b;
    const bool ok_a = a.matches(m, &why_a);
    const bool ok_b = b.matches(m, &why_b);
    // Only the failures explain a miss; a match is explained by both.
    std::string first = ok_a && !ok_b ? "" : why_a.str();
    std::string second = ok_b && !ok_a ? "" : why_b.str();
    *os << first << (!first.empty() && !second.empty() ? ", and " : "") << second;
    return ok_a && ok_b;
  };
  auto describe = [a, b](std::ostream* os) {
    std::string second = b.description();
    // "has subject matching /x/ and has body matching /y/" reads as "... and body matching /y/".
    if (second.starts_with("has ") && a.description().starts_with("has ")) second.erase(0, 4);
    *os << a.description() << " and " << second;
  };
  return MessagePredicate(std::move(match), std::move(describe));
}

MessagePredicate subject_matches(Pattern pattern) {
  return part_matches(
      "subject", std::move(pattern),
      [](const Message& m) { return std::vector<std::string>{m.subject}; }, show_short);
}

MessagePredicate sender_matches(Pattern pattern) {
  return part_matches(
      "sender", std::move(pattern),
      [](const Message& m) {
        return std::vector<std::string>{m.from_email, sender_text(m)};
      },
      show_short);
}

MessagePredicate body_matches(Pattern pattern) {
  return part_matches(
      "body", std::move(pattern),
      [](const Message& m) { return std::vector<std::string>{visible_text(m)}; }, show_body);
}

MessagePredicate subject_matches(std::string_view expression) {
  return subject_matches(Pattern(expression));
}
MessagePredicate sender_matches(std::string_view expression) {
  return sender_matches(Pattern(expression));
}
MessagePredicate body_matches(std::string_view expression) {
  return body_matches(Pattern(expression));
}

}  // namespace tempmail
