// The verification email of the signup app, built the way real transactional
// email is: multipart/alternative with a plain-text part and an HTML part
// (base64, UTF-8), a logo linked to the home page, a hidden preheader, header
// and footer links, a tracking pixel, an unsubscribe link, a reference number
// and the year -- the noise a test has to see through to find the link and code.
#pragma once

#include <chrono>
#include <string>

namespace signup {

struct VerificationEmail {
  std::string from_name = "My App";
  std::string from_address = "noreply@myapp.test";
  std::string to;
  /// Where the links point: "http://127.0.0.1:8080" (no trailing slash).
  std::string public_url;
  std::string token;      ///< goes into public_url + "/verify?token=..."
  std::string code;       ///< the 6-digit code to type
  std::string reference;  ///< "Reference #48213977" in the footer
  std::chrono::system_clock::time_point sent_at = std::chrono::system_clock::now();
};

inline constexpr const char* kVerificationSubject = "Verify your email for My App";

/// The verification link the email carries.
std::string verification_url(const VerificationEmail& email);
/// The whole RFC 5322 message, CRLF line ends, ready for SMTP DATA.
std::string compose(const VerificationEmail& email);

}  // namespace signup
