#include "verification_email.hpp"

#include <openssl/evp.h>

#include <ctime>
#include <map>
#include <string_view>

#include "secrets.hpp"

namespace signup {
namespace {

// Shaped like what email builders (MJML, Mailchimp, SendGrid templates)
// produce: nested layout tables, inline styles, a <style> block and entities.
constexpr std::string_view kHtml = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Verify your email for My App</title>
<style>
  body { margin: 0; padding: 0; background: #f4f5f7; }
  .button:hover { background: #4338ca !important; }
  @media (max-width: 620px) { .container { width: 100% !important; } }
</style>
</head>
<body style="margin:0;padding:0;background-color:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2937;">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">Confirm your address to finish setting up your My App account.&#8199;&#65279;&#847;&#8199;&#65279;&#847;&#8199;&#65279;&#847;</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f4f5f7;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0" border="0" style="background-color:#ffffff;border-radius:8px;">
<tr>
<td style="padding:24px 32px;border-bottom:1px solid #e5e7eb;">
<a href="{{home}}" target="_blank"><img src="{{home}}static/logo.png" alt="My App" width="120" height="32" style="display:block;border:0;"></a>
</td>
<td align="right" style="padding:24px 32px;border-bottom:1px solid #e5e7eb;font-size:13px;">
<a href="{{view_online}}" style="color:#6b7280;">View in browser</a> &middot; <a href="{{help}}" style="color:#6b7280;">Help</a>
</td>
</tr>
<tr><td colspan="2" style="padding:32px;font-size:15px;line-height:22px;">
<h1 style="font-size:22px;margin:0 0 16px;">Verify your email address</h1>
<p>Hi there,</p>
<p>Thanks for signing up for My App! Please confirm that <strong>{{email}}</strong> is your email address so we can finish creating your account.</p>
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:24px 0;"><tr>
<td style="background-color:#4f46e5;border-radius:6px;">
<a href="{{verify}}" class="button" target="_blank" style="display:inline-block;padding:12px 28px;color:#ffffff;text-decoration:none;font-weight:bold;">Verify my email</a>
</td></tr></table>
<p>Or enter this verification code in the app:</p>
<div style="font-family:'Courier New',Courier,monospace;font-size:32px;font-weight:bold;letter-spacing:6px;background-color:#f3f4f6;padding:12px 20px;display:inline-block;border-radius:6px;">{{code}}</div>
<p style="font-size:13px;color:#6b7280;">The code expires in 15 minutes and the link in 24 hours. If the button does not work, copy this link into your browser:<br>
<a href="{{verify}}" style="color:#4f46e5;word-break:break-all;">{{verify}}</a></p>
<p style="font-size:13px;color:#6b7280;">Didn't sign up? You can safely ignore this email. Questions? Call us at +1 (555) 010-4477, Monday to Friday, 9:00&ndash;17:00 PT.</p>
</td></tr>
<tr><td colspan="2" style="padding:24px 32px;background-color:#f9fafb;font-size:12px;line-height:18px;color:#6b7280;text-align:center;">
<p style="margin:0 0 12px;">Reference #{{reference}} &middot; Sent {{date}}</p>
<p style="margin:0 0 12px;"><a href="https://twitter.com/myapp" style="color:#6b7280;">Twitter</a> &middot; <a href="https://www.facebook.com/myapp" style="color:#6b7280;">Facebook</a> &middot; <a href="https://www.linkedin.com/company/myapp" style="color:#6b7280;">LinkedIn</a></p>
<p style="margin:0 0 12px;"><a href="{{help}}" style="color:#6b7280;">Help Center</a> | <a href="{{privacy}}" style="color:#6b7280;">Privacy Policy</a> | <a href="{{terms}}" style="color:#6b7280;">Terms of Service</a></p>
<p style="margin:0 0 12px;">You received this email because {{email}} was used to sign up for My App. <a href="{{unsubscribe}}" style="color:#6b7280;">Unsubscribe</a> or <a href="{{preferences}}" style="color:#6b7280;">manage your email preferences</a>.</p>
<p style="margin:0 0 12px;">My App Inc., 1200 Market Street, Suite 400, San Francisco, CA 94103, USA</p>
<p style="margin:0;">&copy; {{year}} My App Inc. All rights reserved.</p>
</td></tr>
</table>
<img src="{{pixel}}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px;">
</td></tr>
</table>
</body>
</html>
)html";

constexpr std::string_view kText = R"text(Verify your email address

Thanks for signing up for My App! Please confirm that {{email}} is your email address:

{{verify}}

Or enter this verification code in the app: {{code}}

The code expires in 15 minutes and the link in 24 hours. Didn't sign up? You can safely ignore this email.

Reference #{{reference}}
Help Center: {{help}}
Privacy Policy: {{privacy}}
Terms of Service: {{terms}}
Unsubscribe: {{unsubscribe}}

My App Inc., 1200 Market Street, Suite 400, San Francisco, CA 94103, USA
(c) {{year}} My App Inc.
)text";

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Replaces every {{name}} with its value.
std::string fill(std::string_view tmpl, const std::map<std::string, std::string>& values) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = tmpl.find("}}", open);
    out.append(tmpl.substr(pos, open - pos));
    out += values.at(std::string(tmpl.substr(open + 2, close - open - 2)));
    pos = close + 2;
  }
  out.append(tmpl.substr(pos));
  return out;
}

// LF -> CRLF, as SMTP and RFC 5322 want.
std::string crlf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

// Base64 in lines of 76 characters (RFC 2045 section 6.8).
std::string base64_lines(std::string_view data) {
  std::string b64(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  b64.resize(static_cast<std::size_t>(n));
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
  return out;
}

std::string format_time(std::chrono::system_clock::time_point t, const char* format) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string verification_url(const VerificationEmail& email) {
  return email.public_url + "/verify?token=" + email.token;
}

std::string compose(const VerificationEmail& email) {
  const std::string home = email.public_url + "/";
  const std::string user_id = random_hex(8);
  const std::map<std::string, std::string> values{
      {"home", home},
      {"view_online", home + "email/view?id=" + random_hex(12)},
      {"help", home + "help"},
      {"privacy", home + "legal/privacy"},
      {"terms", home + "legal/terms"},
      {"unsubscribe", home + "unsubscribe?u=" + user_id + "&list=account-updates"},
      {"preferences", home + "preferences?u=" + user_id},
      {"pixel", home + "o/open.gif?m=" + random_hex(12)},
      {"email", email.to},
      {"verify", verification_url(email)},
      {"code", email.code},
      {"reference", email.reference},
      {"date", format_time(email.sent_at, "%B %d, %Y")},
      {"year", format_time(email.sent_at, "%Y")},
  };
  std::map<std::string, std::string> html_values;
  for (const auto& [k, v] : values) html_values[k] = html_escape(v);

  const std::string boundary = "=_myapp_" + random_hex(12);
  std::string m;
  m += "From: " + email.from_name + " <" + email.from_address + ">\r\n";
  m += "To: <" + email.to + ">\r\n";
  m += std::string("Subject: ") + kVerificationSubject + "\r\n";
  m += "Date: " + format_time(email.sent_at, "%a, %d %b %Y %H:%M:%S +0000") + "\r\n";
  m += "Message-ID: <" + random_hex(16) + "@myapp.test>\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "List-Unsubscribe: <" + values.at("unsubscribe") + ">\r\n";
  m += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  m += "X-Entity-Ref-ID: " + email.reference + "\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  m += "\r\n";
  m += "This is a multi-part message in MIME format.\r\n";
  m += "\r\n--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: base64\r\n\r\n";
  m += base64_lines(crlf(fill(kText, values)));
  m += "\r\n--" + boundary + "\r\n";
  m += "Content-Type: text/html; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: base64\r\n\r\n";
  m += base64_lines(crlf(fill(kHtml, html_values)));
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

}  // namespace signup
