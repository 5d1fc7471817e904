#pragma once
// The CRI server: both services on the unix socket. Start-up takes a lock
// beside the socket (a second ringcri on the same socket refuses to start),
// replaces a stale socket file, and opens the socket with mode 0660.

#include <filesystem>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "base/error.hpp"
#include "cri/context.hpp"
#include "cri/image_service.hpp"
#include "cri/runtime_service.hpp"

namespace ringcri::cri {

// Room for a ListContainers answer on a dense node (kubelet allows 16 MiB).
inline constexpr int max_message_bytes = 16 * 1024 * 1024;

class server {
 public:
  static result<std::unique_ptr<server>> start(context& ctx, const std::filesystem::path& socket);
  ~server();

  // Waits up to `grace` for the unary calls in flight to answer.
  void wait_for_calls(std::chrono::milliseconds grace);
  // Stops serving: calls still running are cancelled, and it returns once
  // each has answered.
  void shutdown();

 private:
  server(context& ctx, int lock_fd) : ctx_(ctx), runtime_(ctx), images_(ctx), lock_fd_(lock_fd) {}

  context& ctx_;
  runtime_service runtime_;
  image_service images_;
  int lock_fd_;
  std::filesystem::path socket_;
  std::unique_ptr<grpc::Server> grpc_;
};

}  // namespace ringcri::cri
