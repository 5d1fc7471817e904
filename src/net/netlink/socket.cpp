#include "net/netlink/socket.hpp"

#include <fmt/format.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <optional>
#include <vector>

#include "net/netlink/ack.hpp"
#include "reactor/ops.hpp"
#include "reactor/turns.hpp"

namespace ringcri::net::netlink {

struct socket::state {
  unique_fd fd;
  std::uint32_t port_id = 0;
  std::uint32_t next_seq = 1;
  // Replies land here. 32 KiB holds any datagram rtnetlink sends for
  // single requests and one page-sized part of a dump. Allocated once per
  // socket.
  std::vector<std::byte> receive_buffer = std::vector<std::byte>(32 * 1024);
  reactor::turns turns;
};

socket::socket(std::unique_ptr<state> s) : state_(std::move(s)) {}
socket::socket(socket&&) noexcept = default;
socket& socket::operator=(socket&&) noexcept = default;
socket::~socket() = default;

int socket::fd() const { return state_->fd.get(); }

result<socket> socket::open(int protocol) {
  unique_fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!fd) return fail_errno(errno, "open a netlink socket");
  return adopt(std::move(fd));
}

result<socket> socket::adopt(unique_fd fd) {
  int on = 1;
  // The kernel's own sentence in errors, and ACKs that echo only the
  // request's header rather than the whole request.
  ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    return fail_errno(errno, "bind a netlink socket");
  socklen_t len = sizeof local;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0)
    return fail_errno(errno, "name a netlink socket");
  auto s = std::make_unique<state>();
  s->fd = std::move(fd);
  s->port_id = local.nl_pid;
  return socket(std::move(s));
}

reactor::task<result<void>> socket::run(std::span<message> batch) {
  co_return co_await exchange(batch, nullptr);
}

reactor::task<result<void>> socket::run(message request) {
  co_return co_await exchange(std::span<message>(&request, 1), nullptr);
}

reactor::task<result<void>> socket::query(message request,
                                                std::function<void(const nlmsghdr*)> on_reply) {
  co_return co_await exchange(std::span<message>(&request, 1), &on_reply);
}

reactor::task<result<void>> socket::exchange(
    std::span<message> batch, const std::function<void(const nlmsghdr*)>* on_reply) {
  if (batch.empty()) co_return result<void>{};
  for (const message& m : batch)
    if (!m.complete())
      co_return fail(error_kind::invalid_argument,
                     fmt::format("{}: the request is too large", m.what()));
  auto turn = co_await state_->turns.exclusive("");
  state& s = *state_;

  // Sequence numbers batch[i] = first + i, so a reply finds its request
  // by subtraction.
  const std::uint32_t first = s.next_seq;
  s.next_seq += static_cast<std::uint32_t>(batch.size());
  std::vector<iovec> iov(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    nlmsghdr* h = batch[i].header();
    h->nlmsg_seq = first + static_cast<std::uint32_t>(i);
    iov[i] = {h, h->nlmsg_len};
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr out{};
  out.msg_name = &kernel;
  out.msg_namelen = sizeof kernel;
  out.msg_iov = iov.data();
  out.msg_iovlen = iov.size();
  auto sent = co_await reactor::sendmsg(s.fd.get(), &out, 0);
  if (!sent) co_return tl::unexpected(error::from_error_code(sent.error(), batch[0].what()));

  std::size_t pending = 0;
  std::vector<bool> answered(batch.size(), false);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].header()->nlmsg_flags & NLM_F_ACK)
      ++pending;
    else
      answered[i] = true;  // a transaction marker: the kernel answers nothing
  }
  std::optional<error> first_failure;
  std::size_t first_failure_index = batch.size();
  while (pending > 0) {
    auto got = co_await reactor::recv(s.fd.get(), s.receive_buffer, 0);
    if (!got) {
      co_return tl::unexpected(error::from_error_code(
          got.error(), fmt::format("{}: read the kernel's answer", batch[0].what())));
    }
    int len = *got;
    if (len == 0)
      co_return fail(error_kind::internal,
                     fmt::format("{}: the netlink socket closed", batch[0].what()));
    for (auto* h = reinterpret_cast<const nlmsghdr*>(s.receive_buffer.data()); mnl_nlmsg_ok(h, len);
         h = mnl_nlmsg_next(h, &len)) {
      std::uint32_t index = h->nlmsg_seq - first;
      if (h->nlmsg_pid != s.port_id || index >= batch.size() || answered[index]) continue;
      if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
        answered[index] = true;
        --pending;
        if (h->nlmsg_type == NLMSG_ERROR) {
          auto failure = ack_error(h, batch[index].what());
          if (failure && index < first_failure_index) {
            first_failure = std::move(failure);
            first_failure_index = index;
          }
        }
      } else if (h->nlmsg_type >= NLMSG_MIN_TYPE && on_reply) {
        (*on_reply)(h);
      }
    }
  }
  if (first_failure) co_return tl::unexpected(std::move(*first_failure));
  co_return result<void>{};
}

}  // namespace ringcri::net::netlink
