#pragma once
// socket: a netlink socket driven by the reactor: NETLINK_ROUTE for links,
// addresses and routes, NETLINK_NETFILTER for nftables (net/nft/). Requests go
// out with io_uring sendmsg (a whole batch in one call, one iovec per
// message) and replies come back with io_uring recv: netlink sockets are
// plain datagram sockets to io_uring, so no thread blocks and a reactor
// can hold one socket per network namespace it works in.
//
// Every request gets its own sequence number and, when it asks for one
// (NLM_F_ACK: all but an nftables transaction's begin and end markers), an
// ACK; a batch is sent at once and its ACKs are awaited together, so
// setting up a pod's links costs one round trip to the kernel. The kernel goes on with the
// rest of a batch when one request fails; the first failure (in batch
// order) is the error returned, named by its request.
//
// One reactor: the socket belongs to the reactor that uses it. Exchanges
// from several coroutines take turns, so replies never mix.

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "net/netlink/message.hpp"
#include "reactor/task.hpp"

namespace ringcri::net::netlink {

class socket {
 public:
  // A socket in the calling thread's network namespace (see netns.hpp for
  // one in another namespace). Plain syscalls that never block.
  static result<socket> open(int protocol = NETLINK_ROUTE);
  // Takes over a netlink socket made elsewhere (in another namespace) and
  // sets it up as open() does.
  static result<socket> adopt(unique_fd fd);

  socket(socket&&) noexcept;
  socket& operator=(socket&&) noexcept;
  ~socket();

  int fd() const;

  // Sends every request of `batch` at once and waits for all their ACKs.
  reactor::task<result<void>> run(std::span<message> batch);
  reactor::task<result<void>> run(message request);

  // Sends `request` and hands each reply message (an RTM_NEWLINK for an
  // RTM_GETLINK...) to `on_reply` until the ACK, or NLMSG_DONE for a dump.
  reactor::task<result<void>> query(message request, std::function<void(const nlmsghdr*)> on_reply);

 private:
  struct state;
  explicit socket(std::unique_ptr<state> s);
  reactor::task<result<void>> exchange(std::span<message> batch,
                                       const std::function<void(const nlmsghdr*)>* on_reply);
  std::unique_ptr<state> state_;
};

}  // namespace ringcri::net::netlink
