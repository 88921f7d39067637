#include "extraction_json.hpp"

#include <boost/json/array.hpp>
#include <sstream>

namespace tempmail::cli {

namespace json = boost::json;

json::object extraction_json(const Extraction& x) {
  json::array candidates;
  for (const auto& c : x.otp.candidates)
    candidates.push_back(
        json::object{{"value", c.value}, {"score", c.score}, {"reason", c.reason}});
  json::array links;
  for (const auto& l : x.links.web) links.push_back(json::object{{"url", l.url}, {"text", l.text}});
  json::value otp = nullptr;
  if (x.otp.code) otp = json::string(*x.otp.code);
  json::value link = nullptr;
  if (x.verification_link) link = json::string(x.verification_link->url);
  return json::object{{"otp", std::move(otp)},
                      {"otp_candidates", std::move(candidates)},
                      {"verification_link", std::move(link)},
                      {"links", std::move(links)}};
}

std::string describe_otp_failure(const OtpResult& otp) {
  std::ostringstream os;
  if (otp.candidates.empty()) {
    os << "no one-time code found: nothing in the subject or the visible text looks like one";
    return os.str();
  }
  os << (otp.ambiguous ? "the one-time code is ambiguous" : "no one-time code found") << "; "
     << otp.candidates.size() << (otp.candidates.size() == 1 ? " candidate" : " candidates")
     << ", best first:";
  for (const auto& c : otp.candidates) {
    os << "\n  \"" << c.value << "\" (score " << c.score;
    if (!c.reason.empty()) os << ": " << c.reason;
    os << ")";
    if (!c.context.empty()) os << " in \"" << c.context << "\"";
  }
  return os.str();
}

std::string describe_link_failure(const Extraction& x) {
  std::ostringstream os;
  os << "no verification link found";
  if (x.ranked_links.empty()) {
    os << ": the message has no web links";
    return os.str();
  }
  os << "; the web links, best first (a link needs a score of 30 to be chosen):";
  for (const auto& s : x.ranked_links) {
    os << "\n  " << s.link.url << " (score " << s.score;
    if (!s.why.empty()) os << ": " << s.why;
    os << ")";
  }
  return os.str();
}

}  // namespace tempmail::cli
