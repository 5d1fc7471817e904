#pragma once
// A netlink socket inside another network namespace (a pod's). The
// socket is made on a blocking-pool thread that enters the namespace and
// comes back (a reactor thread never calls setns); the socket keeps the
// namespace it was born in, and the reactor drives it like any other.

#include "base/error.hpp"
#include "net/netlink/socket.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::netlink {

// `netns_fd`: an open network namespace file; it need not stay open once
// the socket is made.
reactor::task<result<socket>> open_in_network_namespace(int netns_fd, int protocol = NETLINK_ROUTE);

}  // namespace ringcri::net::netlink
