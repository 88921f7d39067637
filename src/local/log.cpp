#include "local/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>

namespace tempmail::local::detail {

void log_line(std::string_view line) {
  static std::mutex mu;
  std::string text = "tempmail-server: ";
  text.append(line);
  text.push_back('\n');
  std::lock_guard lock(mu);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace tempmail::local::detail
