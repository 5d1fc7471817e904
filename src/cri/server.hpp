#pragma once
// The CRI server: both services on the unix socket. Start-up takes a lock
// beside the socket (a second ringcri on the same socket refuses to start),
// replaces a stale socket file, and opens the socket with mode 0660.

#include <atomic>
#include <filesystem>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "cri/context.hpp"
#include "cri/image_service.hpp"
#include "cri/runtime_service.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

// Room for a ListContainers answer on a dense node (kubelet allows 16 MiB).
inline constexpr int max_message_bytes = 16 * 1024 * 1024;

class server {
 public:
  // Listens on `socket` (made here, mode 0660, removed at the end).
  static result<std::unique_ptr<server>> start(context& ctx, const std::filesystem::path& socket);
  // Socket activation: `listener` is the CRI socket systemd made and
  // listens on (ringcri.socket, LISTEN_FDS), `socket` its path. Reactor 0
  // accepts its connections and hands each to gRPC; the socket file stays
  // systemd's.
  static result<std::unique_ptr<server>> start_activated(context& ctx, const std::filesystem::path& socket,
                                                         unique_fd listener);
  ~server();

  // Waits up to `grace` for the unary calls in flight to answer.
  void wait_for_calls(std::chrono::milliseconds grace);
  // Stops serving: calls still running are cancelled, and it returns once
  // each has answered.
  void shutdown();

 private:
  server(context& ctx, int lock_fd) : ctx_(ctx), runtime_(ctx), images_(ctx), lock_fd_(lock_fd) {}
  static result<std::unique_ptr<server>> build(context& ctx, const std::filesystem::path& socket, bool listen);
  reactor::task<void> accept_loop();

  context& ctx_;
  runtime_service runtime_;
  image_service images_;
  int lock_fd_;
  std::filesystem::path socket_;
  std::unique_ptr<grpc::Server> grpc_;
  unique_fd listener_;  // socket activation only
  std::atomic<bool> accepting_{false};
};

}  // namespace ringcri::cri
