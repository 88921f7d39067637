#include "tempmail/gtest/matchers.hpp"

#include "common/time.hpp"
#include "tempmail/extract.hpp"
#include "tempmail/message.hpp"

namespace tempmail::gtest {
namespace detail {

std::string sender_text(const Message& m) {
  if (m.from_name.empty()) return m.from_email;
  return "\"" + m.from_name + "\" <" + m.from_email + ">";
}

}  // namespace detail

namespace {

// The words of a matcher "has <thing> whose <part> <inner>" and its negation
// "has no <thing> whose <part> <inner>"; subclasses add MatchAndExplain.
class PhraseMatcher {
 public:
  using is_gtest_matcher = void;
  PhraseMatcher(const char* has, const char* has_no, ::testing::Matcher<std::string> inner)
      : has_(has), has_no_(has_no), inner_(std::move(inner)) {}

  void DescribeTo(std::ostream* os) const {
    *os << has_;
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << has_no_;
    inner_.DescribeTo(os);
  }

 protected:
  const char* has_;
  const char* has_no_;
  ::testing::Matcher<std::string> inner_;
};

class HasAttachmentMatcher : public PhraseMatcher {
 public:
  explicit HasAttachmentMatcher(::testing::Matcher<std::string> inner)
      : PhraseMatcher("has an attachment whose name ", "has no attachment whose name ",
                      std::move(inner)) {}

  bool MatchAndExplain(const Message& m, std::ostream* os) const {
    for (const auto& a : m.attachments) {
      if (inner_.Matches(a.name)) {
        if (os) *os << "whose attachment \"" << a.name << "\" matches";
        return true;
      }
    }
    if (os) {
      if (m.attachments.empty()) {
        *os << "which has no attachments";
      } else {
        *os << "whose attachments are";
        const char* sep = " ";
        for (const auto& a : m.attachments) {
          *os << sep << "\"" << a.name << "\"";
          sep = ", ";
        }
      }
    }
    return false;
  }
};

class ReceivedAfterMatcher {
 public:
  using is_gtest_matcher = void;
  explicit ReceivedAfterMatcher(std::chrono::sys_seconds t) : t_(t) {}

  bool MatchAndExplain(const Message& m, std::ostream* os) const {
    if (os) *os << "which was received at " << format(m.received_at);
    return m.received_at >= t_;
  }
  void DescribeTo(std::ostream* os) const { *os << "was received at or after " << format(t_); }
  void DescribeNegationTo(std::ostream* os) const { *os << "was received before " << format(t_); }

 private:
  static std::string format(std::chrono::sys_seconds t) {
    return tempmail::detail::format_received_at(t);
  }
  std::chrono::sys_seconds t_;
};

// Lists strings as `"a", "b"` for explanations.
std::string quoted_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += ::testing::PrintToString(item);
  }
  return out;
}

class HasLinkMatcher : public PhraseMatcher {
 public:
  explicit HasLinkMatcher(::testing::Matcher<std::string> inner)
      : PhraseMatcher("has a link whose URL ", "has no link whose URL ", std::move(inner)) {}

  bool MatchAndExplain(const Message& m, std::ostream* os) const {
    std::vector<std::string> urls;
    for (const auto& link : links(m).web) {
      if (inner_.Matches(link.url)) {
        if (os) *os << "whose link " << ::testing::PrintToString(link.url) << " matches";
        return true;
      }
      urls.push_back(link.url);
    }
    if (os) {
      if (urls.empty())
        *os << "which has no web links";
      else
        *os << "whose links are " << quoted_list(urls);
    }
    return false;
  }
};

class HasVerificationLinkMatcher : public PhraseMatcher {
 public:
  explicit HasVerificationLinkMatcher(::testing::Matcher<std::string> inner)
      : PhraseMatcher("has a verification link whose URL ", "has no verification link whose URL ",
                      std::move(inner)) {}

  bool MatchAndExplain(const Message& m, std::ostream* os) const {
    auto link = verification_link(m);
    if (!link) {
      if (os) *os << "which has no link that looks like a verification link";
      return false;
    }
    ::testing::StringMatchResultListener inner;
    const bool ok = inner_.MatchAndExplain(link->url, &inner);
    if (os) {
      *os << "whose verification link is " << ::testing::PrintToString(link->url);
      if (!inner.str().empty()) *os << ", " << inner.str();
    }
    return ok;
  }
};

class HasOtpMatcher : public PhraseMatcher {
 public:
  explicit HasOtpMatcher(::testing::Matcher<std::string> inner)
      : PhraseMatcher("has a one-time code that ", "has no one-time code that ", std::move(inner)) {
  }

  bool MatchAndExplain(const Message& m, std::ostream* os) const {
    const OtpResult result = find_otp(m);
    if (!result.code) {
      if (os) {
        if (result.ambiguous) {
          std::vector<std::string> values;
          for (const auto& c : result.candidates) values.push_back(c.value);
          *os << "which has several codes and none stands out: " << quoted_list(values);
        } else {
          *os << "which has no one-time code";
        }
      }
      return false;
    }
    ::testing::StringMatchResultListener inner;
    const bool ok = inner_.MatchAndExplain(*result.code, &inner);
    if (os) {
      *os << "whose one-time code is " << ::testing::PrintToString(*result.code);
      if (!inner.str().empty()) *os << ", " << inner.str();
    }
    return ok;
  }
};

class ContainsPatternMatcher {
 public:
  using is_gtest_matcher = void;
  explicit ContainsPatternMatcher(Pattern pattern) : pattern_(std::move(pattern)) {}

  bool MatchAndExplain(const std::string& text, std::ostream*) const {
    return pattern_.found_in(text);
  }
  void DescribeTo(std::ostream* os) const { *os << "contains a match of " << pattern_; }
  void DescribeNegationTo(std::ostream* os) const { *os << "contains no match of " << pattern_; }

 private:
  Pattern pattern_;
};

}  // namespace

::testing::Matcher<std::string> ContainsPattern(std::string_view expression) {
  return ContainsPatternMatcher(Pattern(expression));
}

::testing::Matcher<std::string> ContainsPattern(Pattern pattern) {
  return ContainsPatternMatcher(std::move(pattern));
}

::testing::Matcher<const Message&> HasBodyText(::testing::Matcher<std::string> text) {
  return detail::part_matcher(
      "body text", [](const Message& m) { return visible_text(m); }, std::move(text));
}

::testing::Matcher<const Message&> HasLink(::testing::Matcher<std::string> url) {
  return HasLinkMatcher(std::move(url));
}

::testing::Matcher<const Message&> HasVerificationLink(::testing::Matcher<std::string> url) {
  return HasVerificationLinkMatcher(std::move(url));
}

::testing::Matcher<const Message&> HasOtp(::testing::Matcher<std::string> code) {
  return HasOtpMatcher(std::move(code));
}

::testing::Matcher<const Message&> HasAttachment(::testing::Matcher<std::string> name) {
  return HasAttachmentMatcher(std::move(name));
}

::testing::Matcher<const Message&> ReceivedAfter(std::chrono::system_clock::time_point t) {
  return ReceivedAfterMatcher(std::chrono::floor<std::chrono::seconds>(t));
}

}  // namespace tempmail::gtest
