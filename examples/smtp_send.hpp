// A deliberately small SMTP client for the examples: the kind of code an
// application under test uses to send its verification email. Blocking POSIX
// sockets with a timeout on every read and write, one message per connection,
// every reply checked. (A real application would use a mail library or relay.)
#pragma once

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

class SmtpConnection {
 public:
  SmtpConnection(const std::string& host, std::uint16_t port,
                 std::chrono::seconds timeout = std::chrono::seconds(30)) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0)
      throw std::runtime_error("smtp: cannot resolve " + host);
    const timeval tv{.tv_sec = static_cast<time_t>(timeout.count()), .tv_usec = 0};
    for (addrinfo* a = res; a != nullptr && fd_ < 0; a = a->ai_next) {
      fd_ = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
      if (fd_ < 0) continue;
      // A stalled server makes send/recv fail after `timeout` instead of hanging.
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (::connect(fd_, a->ai_addr, a->ai_addrlen) != 0) {
        ::close(fd_);
        fd_ = -1;
      }
    }
    freeaddrinfo(res);
    if (fd_ < 0)
      throw std::runtime_error("smtp: cannot connect to " + host + ":" + std::to_string(port) +
                               "; is the SMTP server running there?");
  }
  ~SmtpConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  SmtpConnection(const SmtpConnection&) = delete;
  SmtpConnection& operator=(const SmtpConnection&) = delete;

  // Sends `line` (without CRLF; empty sends nothing) and checks the reply code.
  std::string command(const std::string& line, int expected) {
    if (!line.empty()) write(line + "\r\n");
    std::string reply = read_reply();
    if (reply.size() < 3 || std::stoi(reply.substr(0, 3)) != expected)
      throw std::runtime_error("smtp: sent '" + line + "', expected " + std::to_string(expected) +
                               ", got: " + reply);
    return reply;
  }

  void write(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("smtp: connection lost (or timed out) while sending");
      sent += static_cast<std::size_t>(n);
    }
  }

 private:
  // A reply is one or more lines "NNN-..." ending with a line "NNN ...".
  std::string read_reply() {
    std::string reply;
    while (true) {
      std::string line = read_line();
      reply += line + "\n";
      if (line.size() < 4 || line[3] != '-') return reply;
    }
  }
  std::string read_line() {
    while (true) {
      auto eol = buffer_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        return line;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0)
        throw std::runtime_error(n == 0 ? "smtp: connection closed by the server"
                                        : "smtp: no reply from the server (timed out)");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  int fd_ = -1;
  std::string buffer_;
};

// Sends one RFC 5322 message (`message` uses CRLF line ends) to `to`.
inline void send_mail(const std::string& host, std::uint16_t port, const std::string& from,
                      const std::vector<std::string>& to, const std::string& message) {
  SmtpConnection smtp(host, port);
  smtp.command("", 220);
  smtp.command("EHLO example.test", 250);
  smtp.command("MAIL FROM:<" + from + ">", 250);
  for (const auto& rcpt : to) smtp.command("RCPT TO:<" + rcpt + ">", 250);
  smtp.command("DATA", 354);
  std::string body;  // dot-stuffing: a line that starts with '.' gets another '.'
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t eol = message.find("\r\n", start);
    std::string line =
        message.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
    if (!line.empty() && line[0] == '.') body += '.';
    body += line + "\r\n";
    if (eol == std::string::npos) break;
    start = eol + 2;
  }
  smtp.write(body + ".\r\n");
  smtp.command("", 250);
  smtp.command("QUIT", 221);
}

}  // namespace examples
