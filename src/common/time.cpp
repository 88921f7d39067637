#include "common/time.hpp"

#include <array>
#include <charconv>
#include <cstdio>

namespace tempmail::detail {
namespace {

using namespace std::chrono;

// Reads exactly `n` digits at `pos`, advancing it.
bool read_digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += n;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

std::optional<sys_seconds> make_time(int y, int mo, int d, int h, int mi, int sec) {
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec};
}

// "YYYY-MM-DD?HH:MM:SS" where ? is `sep`; advances pos past the seconds.
std::optional<sys_seconds> parse_date_time(std::string_view s, std::size_t& pos, char sep) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-') || !read_digits(s, pos, 2, mo) ||
      !expect(s, pos, '-') || !read_digits(s, pos, 2, d))
    return std::nullopt;
  if (pos >= s.size() || (s[pos] != sep && !(sep == 'T' && s[pos] == 't'))) return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, h) || !expect(s, pos, ':') || !read_digits(s, pos, 2, mi) ||
      !expect(s, pos, ':') || !read_digits(s, pos, 2, sec))
    return std::nullopt;
  return make_time(y, mo, d, h, mi, sec);
}

std::string format(sys_seconds t, const char* pattern) {
  auto days = floor<std::chrono::days>(t);
  year_month_day ymd{days};
  hh_mm_ss hms{t - days};
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), pattern, static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf.data();
}

}  // namespace

std::optional<sys_seconds> parse_iso8601(std::string_view s) {
  std::size_t pos = 0;
  auto t = parse_date_time(s, pos, 'T');
  if (!t) return std::nullopt;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {  // fraction: dropped
    ++pos;
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  if (pos == s.size()) return std::nullopt;  // a zone is required
  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size() ? t : std::nullopt;
  int sign = s[pos] == '+' ? 1 : s[pos] == '-' ? -1 : 0;
  if (sign == 0) return std::nullopt;
  ++pos;
  int oh = 0, om = 0;
  if (!read_digits(s, pos, 2, oh)) return std::nullopt;
  if (pos < s.size()) {
    if (s[pos] == ':') ++pos;
    if (!read_digits(s, pos, 2, om)) return std::nullopt;
  }
  if (pos != s.size() || oh > 23 || om > 59) return std::nullopt;
  return *t - sign * (hours{oh} + minutes{om});
}

std::string format_iso8601(sys_seconds t) { return format(t, "%04d-%02u-%02uT%02d:%02d:%02d+00:00"); }

std::optional<sys_seconds> parse_received_at(std::string_view s) {
  std::size_t pos = 0;
  auto t = parse_date_time(s, pos, ' ');
  if (!t || pos != s.size()) return std::nullopt;
  return t;
}

std::string format_received_at(sys_seconds t) { return format(t, "%04d-%02u-%02u %02d:%02d:%02d"); }

sys_seconds start_of_next_month(sys_seconds t) {
  year_month_day ymd{floor<days>(t)};
  year_month next = year_month{ymd.year(), ymd.month()} + months{1};
  return sys_days{next / day{1}};
}

std::optional<sys_seconds> parse_retry_after(std::string_view s, sys_seconds now) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  if (s.front() >= '0' && s.front() <= '9') {
    long long secs = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), secs);
    if (ec != std::errc{} || end != s.data() + s.size() || secs < 0) return std::nullopt;
    return now + seconds{secs};
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(3, 2) != ", " || s.substr(25) != " GMT") return std::nullopt;
  std::size_t pos = 5;
  int d = 0, y = 0, h = 0, mi = 0, sec = 0;
  if (!read_digits(s, pos, 2, d) || !expect(s, pos, ' ')) return std::nullopt;
  int mo = 0;
  for (std::size_t i = 0; i < kMonths.size(); ++i)
    if (s.substr(pos, 3) == kMonths[i]) mo = static_cast<int>(i) + 1;
  if (mo == 0) return std::nullopt;
  pos += 3;
  if (!expect(s, pos, ' ') || !read_digits(s, pos, 4, y) || !expect(s, pos, ' ') ||
      !read_digits(s, pos, 2, h) || !expect(s, pos, ':') || !read_digits(s, pos, 2, mi) ||
      !expect(s, pos, ':') || !read_digits(s, pos, 2, sec))
    return std::nullopt;
  return make_time(y, mo, d, h, mi, sec);
}

}  // namespace tempmail::detail
