#include "net/netlink/netns.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>

#include "base/sys/network_namespace.hpp"
#include "base/unique_fd.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::net::netlink {

reactor::task<result<socket>> open_in_network_namespace(int netns_fd, int protocol) {
  auto made = co_await reactor::run_blocking([netns_fd, protocol]() -> result<unique_fd> {
    int fd = -1;
    int sys_errno = 0;
    auto entered = sys::in_network_namespace(netns_fd, [&] {
      fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
      if (fd < 0) sys_errno = errno;
    });
    if (!entered) return tl::unexpected(std::move(entered.error()));
    if (fd < 0) return fail_errno(sys_errno, "open a netlink socket");
    return unique_fd(fd);
  });
  if (!made)
    co_return tl::unexpected(std::move(made.error()).context("netlink in a network namespace"));
  co_return socket::adopt(std::move(*made));
}

}  // namespace ringcri::net::netlink
