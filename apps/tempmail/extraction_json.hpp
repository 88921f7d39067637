// What `extract --json` and `wait --json` print about a message: the code, the
// candidates behind it, the verification link and the web links.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "tempmail/extract.hpp"

namespace tempmail::cli {

/// {"otp": string|null, "otp_candidates": [{"value", "score", "reason"}...],
///  "verification_link": string|null, "links": [{"url", "text"}...]}
/// `links` are the web links (http, https, www.), deduplicated, in document order.
[[nodiscard]] boost::json::object extraction_json(const Extraction& extraction);

/// For an error message: why there is no code, and the candidates, one a line.
[[nodiscard]] std::string describe_otp_failure(const OtpResult& otp);
/// For an error message: the web links and their scores, one a line.
[[nodiscard]] std::string describe_link_failure(const Extraction& extraction);

}  // namespace tempmail::cli
