#pragma once
// A listening TCP socket on an IPv4 or IPv6 address, for the daemon's
// HTTP endpoints (streaming, metrics).

#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::sys {

struct tcp_listener {
  unique_fd fd;
  // Where it listens, as a URL's authority: "127.0.0.1:9090", "[::1]:9090".
  // The port is the one bound (a free one when 0 was asked for).
  std::string authority;
};

// `address` is a literal IPv4 or IPv6 address (INVALID_ARGUMENT otherwise);
// `what` names the endpoint in errors.
result<tcp_listener> listen_tcp(const std::string& address, std::uint16_t port, const std::string& what);

// Splits "host:port" or "[v6]:port" into its parts; INVALID_ARGUMENT naming
// `what` when it is neither or the port is not a number up to 65535.
result<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text, const std::string& what);

}  // namespace ringcri::sys
