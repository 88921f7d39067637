#include <ostream>
#include <sstream>

#include "tempmail/wait.hpp"

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
