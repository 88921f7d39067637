/// @file pattern.hpp
/// Regular expressions from users, in RE2 syntax
/// (https://github.com/google/re2/wiki/Syntax): matched in time linear in the
/// text with a bounded stack, so no pattern and no message can crash or stall
/// a wait. `^` and `$` match at every line start and end, not only at the
/// ends of the text (`\A` and `\z` match only there).
///
///   tempmail::Pattern code(R"(code is (\d{6})$)");
///   if (code.found_in("Your code is 123456\n")) ...  // true: $ matches before the newline
///   std::optional<std::string> digits = code.find_in(tempmail::visible_text(message));
///
/// `subject_matches`, `sender_matches` and `body_matches` (wait.hpp) make
/// predicates of them for `Mailbox::wait_for`.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tempmail {

/// A pattern RE2 cannot compile. `what()` names the pattern and RE2's reason:
/// "'(unclosed' is not a valid RE2 regular expression: missing ): (unclosed".
class PatternError : public std::invalid_argument {
 public:
  PatternError(std::string expression, std::string reason);
  /// The pattern as given.
  [[nodiscard]] const std::string& expression() const noexcept { return expression_; }
  /// RE2's words for what is wrong, e.g. "missing ): (unclosed".
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::string expression_;
  std::string reason_;
};

/// A compiled RE2 regular expression that is searched for anywhere in a text
/// (anchor it with `^`, `$`, `\A`, `\z`). The text and the pattern are UTF-8;
/// invalid UTF-8 in a text never matches `.` and never fails.
///
/// Equality compares the expressions. Copies share the compiled program, so
/// copying is cheap. Thread safety: every member is const and may be called
/// from any number of threads at once. The destructor frees the program once
/// the last copy is gone; it never throws.
class Pattern {
 public:
  /// Compiles `expression`; throws PatternError when RE2 cannot.
  explicit Pattern(std::string_view expression);

  /// Whether the pattern matches somewhere in `text`.
  [[nodiscard]] bool found_in(std::string_view text) const;
  /// The first match in `text`, or its first capture group when the pattern
  /// has one; nullopt when there is no match (or the group took no part).
  [[nodiscard]] std::optional<std::string> find_in(std::string_view text) const;
  /// The pattern as given.
  [[nodiscard]] const std::string& expression() const noexcept;

  friend bool operator==(const Pattern& a, const Pattern& b) noexcept {
    return a.expression() == b.expression();
  }

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

/// Writes the pattern as "/expression/".
std::ostream& operator<<(std::ostream& os, const Pattern& pattern);

}  // namespace tempmail
