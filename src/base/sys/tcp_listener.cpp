#include "base/sys/tcp_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>

#include <fmt/format.h>

namespace ringcri::sys {

result<tcp_listener> listen_tcp(const std::string& address, std::uint16_t port, const std::string& what) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int domain = AF_INET;
  auto* in = reinterpret_cast<sockaddr_in*>(&addr);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (::inet_pton(AF_INET, address.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1) {
    domain = AF_INET6;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return fail(error_kind::invalid_argument,
                fmt::format("{} address \"{}\" is not an IPv4 or IPv6 address", what, address));
  }
  unique_fd s(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return fail_errno(errno, what + " socket");
  int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0)
    return fail_errno(errno, fmt::format("bind the {} to {} port {}", what, address, port));
  if (::listen(s.get(), 128) != 0) return fail_errno(errno, "listen on the " + what + " socket");
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return fail_errno(errno, "getsockname of the " + what);
  std::uint16_t bound = ntohs(domain == AF_INET ? in->sin_port : in6->sin6_port);
  return tcp_listener{std::move(s), domain == AF_INET ? fmt::format("{}:{}", address, bound)
                                                      : fmt::format("[{}]:{}", address, bound)};
}

result<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text, const std::string& what) {
  auto bad = [&] {
    return fail(error_kind::invalid_argument,
                fmt::format("{} \"{}\" is not host:port (an IP address and a port, \"[::1]:9090\" for IPv6)",
                            what, text));
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad();
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad();
  }
  std::string_view port_text = std::string_view(text).substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return bad();
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

}  // namespace ringcri::sys
