// SCM_RIGHTS over SOCK_SEQPACKET. A receive first peeks at the packet's
// length (MSG_PEEK|MSG_TRUNC) so the buffer is exactly as large as the
// message: nothing is held per connection while it is idle.

#include "exec/keeper/fd_passing.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "reactor/ops.hpp"

namespace ringcri::exec::keeper {

namespace io = ringcri::reactor;

namespace {

constexpr std::size_t control_space = CMSG_SPACE(sizeof(int) * max_fds_per_packet);

// One packet's message: `data` and `fds` as SCM_RIGHTS, pointing into
// itself and `data` (both must stay where they are until it is sent).
struct outgoing_message {
  iovec iov{};
  msghdr msg{};
  std::vector<char> control;

  outgoing_message(std::string& data, const std::vector<int>& fds) {
    iov = {data.data(), data.size()};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fds.empty()) return;
    control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
  }
};

// `sent` bytes of `size`, or the send's errno when `sent` < 0.
result<void> check_sent(long sent, int sys_errno, std::size_t size) {
  if (sent < 0) return fail_errno(sys_errno, "send to the keeper socket");
  if (static_cast<std::size_t>(sent) != size) {
    return fail(error_kind::internal,
                fmt::format("short send on the keeper socket: {} of {} bytes", sent, size));
  }
  return {};
}

result<void> check_fd_count(std::size_t count) {
  if (count > max_fds_per_packet)
    return fail(error_kind::invalid_argument, fmt::format("{} fds do not fit in one packet", count));
  return {};
}

}  // namespace

reactor::task<result<void>> send_packet(int sock, std::string data, std::vector<int> fds) {
  if (auto r = check_fd_count(fds.size()); !r) co_return r;
  outgoing_message out(data, fds);
  auto sent = co_await io::sendmsg(sock, &out.msg);
  co_return check_sent(sent ? static_cast<long>(*sent) : -1, sent ? 0 : sent.error().value(),
                       data.size());
}

result<void> send_packet_blocking(int sock, std::string data, const std::vector<int>& fds) {
  if (auto r = check_fd_count(fds.size()); !r) return r;
  outgoing_message out(data, fds);
  ssize_t sent;
  do {
    sent = ::sendmsg(sock, &out.msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return check_sent(sent, sent < 0 ? errno : 0, data.size());
}

result<try_recv_result> try_recv_packet(int sock) {
  try_recv_result out;
  // The length of the next packet, without taking it.
  char probe = 0;
  iovec probe_iov{&probe, 0};
  msghdr peek{};
  peek.msg_iov = &probe_iov;
  peek.msg_iovlen = 1;
  ssize_t len = ::recvmsg(sock, &peek, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
  if (len < 0) {
    if (errno == EAGAIN || errno == EINTR) return out;
    if (errno == ECONNRESET) {
      out.closed = true;
      return out;
    }
    return fail_errno(errno, "receive from the keeper socket");
  }
  if (len == 0) {
    // Neither side sends empty packets: this is the end of the connection.
    out.closed = true;
    return out;
  }

  packet p;
  p.data.resize(static_cast<std::size_t>(len));
  iovec iov{p.data.data(), p.data.size()};
  alignas(cmsghdr) char control[control_space];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return out;
    return fail_errno(errno, "receive from the keeper socket");
  }
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      p.fds.emplace_back(fd);
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    return fail(error_kind::internal, "a keeper packet was truncated");
  }
  p.data.resize(static_cast<std::size_t>(n));
  out.ready = std::move(p);
  return out;
}

reactor::task<result<std::optional<packet>>> recv_packet(int sock, reactor::cancellation& cancel) {
  for (;;) {
    auto got = try_recv_packet(sock);
    if (!got) co_return tl::unexpected(std::move(got.error()));
    if (got->closed) co_return std::optional<packet>{};
    if (got->ready) co_return std::move(got->ready);
    auto ready = co_await io::poll(sock, POLLIN).with_cancel(cancel);
    if (!ready) co_return fail_errno(ready.error().value(), "wait for the keeper socket");
  }
}

}  // namespace ringcri::exec::keeper
