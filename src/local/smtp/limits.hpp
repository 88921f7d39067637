// The SMTP listener's limits, shared by the protocol and the listener.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace tempmail::local::detail {

struct SmtpLimits {
  std::string hostname = "tempmail.local";                // in the greeting and EHLO reply
  std::size_t max_message_bytes = std::size_t{25} << 20;  // SIZE; over it: 552
  std::size_t max_recipients = 100;                       // more RCPT: 452
  std::size_t max_command_line = 2048;                    // longer command line: 500
  std::size_t max_text_line = 1 << 20;                    // longer DATA line: 552/500 and close
  std::chrono::seconds idle_timeout{300};                 // no command for this long: 421 and close
  std::size_t max_connections = 4096;                     // more: 421 at greeting
  std::size_t max_connections_per_address = 256;          // from one client address: 421
  std::size_t max_errors = 20;                            // bad commands in a session before 421
};

}  // namespace tempmail::local::detail
