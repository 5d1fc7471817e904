#pragma once
// Packets with fds over an AF_UNIX SOCK_SEQPACKET socket: one message per
// packet, its fds as SCM_RIGHTS. Both sides of the keeper's socket use it.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::exec::keeper {

// The kernel's limit of fds in one SCM_RIGHTS message (SCM_MAX_FD).
inline constexpr std::size_t max_fds_per_packet = 253;

struct packet {
  std::string data;
  std::vector<unique_fd> fds;  // O_CLOEXEC
};

// Sends `data` with `fds` (the kernel dups them; the caller keeps its own).
// `data` is taken by value: it must live until the send completes.
reactor::task<result<void>> send_packet(int sock, std::string data, std::vector<int> fds);

// The same, blocking the caller: for a process without a reactor.
result<void> send_packet_blocking(int sock, std::string data, const std::vector<int>& fds);

// Waits for the next packet. nullopt: the peer closed the connection.
// Fails with ECANCELED when `cancel` is cancelled.
reactor::task<result<std::optional<packet>>> recv_packet(int sock, reactor::cancellation& cancel);

// The non-blocking receive under recv_packet: nullopt in `ready` when no
// packet is queued (EAGAIN).
struct try_recv_result {
  bool closed = false;
  std::optional<packet> ready;
};
result<try_recv_result> try_recv_packet(int sock);

}  // namespace ringcri::exec::keeper
