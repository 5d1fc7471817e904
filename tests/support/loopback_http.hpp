#pragma once
// One blocking HTTP/1.1 exchange with a test's own server on 127.0.0.1
// (a fixture's control port): the request is sent whole, the answer read
// until the server closes. Header-only, so unit tests can use it too.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ringcri::testing {

// The whole answer (status line, headers, body); throws `unreachable`
// when nothing listens on `port`.
inline std::string loopback_http(int port, const std::string& request, const std::string& unreachable) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error(unreachable);
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return resp;
}

}  // namespace ringcri::testing
