// tempmail::Pattern: RE2 behind a pimpl. RE2 runs in time linear in the text
// with an explicit stack, unlike std::regex, which recurses once per character
// (a 30 KB body overflows the stack) and backtracks exponentially on "(a+)+$".
#include "tempmail/pattern.hpp"

#include <re2/re2.h>

#include <ostream>

namespace tempmail {
namespace {

RE2::Options options() {
  RE2::Options o;
  o.set_log_errors(false);  // the error is thrown, not logged to stderr
  return o;
}

}  // namespace

PatternError::PatternError(std::string expression, std::string reason)
    : std::invalid_argument("'" + expression +
                            "' is not a valid RE2 regular expression: " + reason),
      expression_(std::move(expression)),
      reason_(std::move(reason)) {}

struct Pattern::Impl {
  explicit Impl(std::string_view expression)
      // (?m): ^ and $ at line ends as people expect of a text with lines;
      // the text of a plain-text mail ends with a newline.
      : expression(expression), re("(?m)" + std::string(expression), options()) {}
  std::string expression;
  RE2 re;
};

Pattern::Pattern(std::string_view expression) {
  auto impl = std::make_shared<const Impl>(expression);
  if (!impl->re.ok()) {
    // RE2's words for the pattern alone, without the (?m) prefix in them.
    const RE2 plain(std::string(expression), options());
    throw PatternError(std::string(expression), plain.ok() ? impl->re.error() : plain.error());
  }
  impl_ = std::move(impl);
}

bool Pattern::found_in(std::string_view text) const {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), impl_->re);
}

std::optional<std::string> Pattern::find_in(std::string_view text) const {
  const int groups = impl_->re.NumberOfCapturingGroups() > 0 ? 2 : 1;
  re2::StringPiece found[2];
  if (!impl_->re.Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED,
                       found, groups))
    return std::nullopt;
  const re2::StringPiece& value = found[groups - 1];
  if (value.data() == nullptr) return std::nullopt;
  return std::string(value.data(), value.size());
}

const std::string& Pattern::expression() const noexcept { return impl_->expression; }

std::ostream& operator<<(std::ostream& os, const Pattern& pattern) {
  return os << '/' << pattern.expression() << '/';
}

}  // namespace tempmail
