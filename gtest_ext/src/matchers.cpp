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

class HasAttachmentMatcher {
 public:
  using is_gtest_matcher = void;
  explicit HasAttachmentMatcher(::testing::Matcher<std::string> name) : name_(std::move(name)) {}

  bool MatchAndExplain(const Message& m, std::ostream* os) const {
    for (const auto& a : m.attachments) {
      if (name_.Matches(a.name)) {
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
  void DescribeTo(std::ostream* os) const {
    *os << "has an attachment whose name ";
    name_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "has no attachment whose name ";
    name_.DescribeTo(os);
  }

 private:
  ::testing::Matcher<std::string> name_;
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

class HasLinkMatcher {
 public:
  using is_gtest_matcher = void;
  explicit HasLinkMatcher(::testing::Matcher<std::string> url) : url_(std::move(url)) {}

  bool MatchAndExplain(const Message& m, std::ostream* os) const {
    std::vector<std::string> urls;
    for (const auto& link : links(m).web) {
      if (url_.Matches(link.url)) {
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
  void DescribeTo(std::ostream* os) const {
    *os << "has a link whose URL ";
    url_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "has no link whose URL ";
    url_.DescribeTo(os);
  }

 private:
  ::testing::Matcher<std::string> url_;
};

class HasVerificationLinkMatcher {
 public:
  using is_gtest_matcher = void;
  explicit HasVerificationLinkMatcher(::testing::Matcher<std::string> url)
      : url_(std::move(url)) {}

  bool MatchAndExplain(const Message& m, std::ostream* os) const {
    auto link = verification_link(m);
    if (!link) {
      if (os) *os << "which has no link that looks like a verification link";
      return false;
    }
    ::testing::StringMatchResultListener inner;
    const bool ok = url_.MatchAndExplain(link->url, &inner);
    if (os) {
      *os << "whose verification link is " << ::testing::PrintToString(link->url);
      if (!inner.str().empty()) *os << ", " << inner.str();
    }
    return ok;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has a verification link whose URL ";
    url_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "has no verification link whose URL ";
    url_.DescribeTo(os);
  }

 private:
  ::testing::Matcher<std::string> url_;
};

class HasOtpMatcher {
 public:
  using is_gtest_matcher = void;
  explicit HasOtpMatcher(::testing::Matcher<std::string> code) : code_(std::move(code)) {}

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
    const bool ok = code_.MatchAndExplain(*result.code, &inner);
    if (os) {
      *os << "whose one-time code is " << ::testing::PrintToString(*result.code);
      if (!inner.str().empty()) *os << ", " << inner.str();
    }
    return ok;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has a one-time code that ";
    code_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "has no one-time code that ";
    code_.DescribeTo(os);
  }

 private:
  ::testing::Matcher<std::string> code_;
};

}  // namespace

::testing::Matcher<const Message&> HasBodyText(::testing::Matcher<std::string> text) {
  return detail::part_matcher("body text",
                              [](const Message& m) { return visible_text(m); }, std::move(text));
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
