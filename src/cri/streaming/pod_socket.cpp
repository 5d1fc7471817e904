#include "cri/streaming/pod_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "exec/sandbox/enter_netns.hpp"
#include "reactor/blocking.hpp"
#include "reactor/ops.hpp"

namespace ringcri::cri::streaming {

namespace io = reactor;

namespace {

// Runs on a blocking-pool thread: the socket is made in the pod's network
// namespace and keeps it.
result<unique_fd> socket_in_netns(const std::string& netns_path, int domain) {
  unique_fd s;
  int socket_errno = 0;
  auto entered = exec::sandbox::in_network_namespace(netns_path, [&] {
    s = unique_fd(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socket_errno = errno;
  });
  if (!entered) return tl::unexpected(entered.error());
  if (!s) return fail_errno(socket_errno, "socket in the pod's network namespace");
  return s;
}

}  // namespace

reactor::task<result<unique_fd>> connect_in_pod(std::string netns_path, std::uint16_t port) {
  int last_errno = 0;
  for (int domain : {AF_INET, AF_INET6}) {
    auto made = co_await io::run_blocking([&] { return socket_in_netns(netns_path, domain); });
    if (!made) {
      if (domain == AF_INET6 && last_errno != 0) break;  // no IPv6: IPv4's answer stands
      co_return tl::unexpected(made.error());
    }
    sockaddr_storage addr{};
    socklen_t len = 0;
    if (domain == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&addr);
      in->sin_family = AF_INET;
      in->sin_port = htons(port);
      in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof(sockaddr_in);
    } else {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(port);
      in6->sin6_addr = in6addr_loopback;
      len = sizeof(sockaddr_in6);
    }
    auto connected = co_await io::connect(made->get(), reinterpret_cast<sockaddr*>(&addr), len)
                         .with_timeout(std::chrono::seconds(10));
    if (connected) co_return std::move(*made);
    last_errno = connected.error().value();
    if (last_errno != ECONNREFUSED && last_errno != EADDRNOTAVAIL && last_errno != ENETUNREACH) break;
  }
  co_return fail_errno(last_errno, fmt::format("connect to localhost:{} in the pod", port));
}

}  // namespace ringcri::cri::streaming
