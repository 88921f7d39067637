// One-time code detection over a rendered body and the subject.
#pragma once

#include <string_view>

#include "extract/render.hpp"
#include "tempmail/extract.hpp"

namespace tempmail::detail {

/// Throws std::invalid_argument when `options.pattern` is not valid RE2.
OtpResult find_otp(const Rendered& body, std::string_view subject, const OtpOptions& options);

}  // namespace tempmail::detail
