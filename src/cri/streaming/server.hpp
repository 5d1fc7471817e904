#pragma once
// The streaming server: plain HTTP/1.1 on a TCP port (127.0.0.1 and a
// port chosen at start by default, as containerd does), serving the
// one-time URLs that Exec, Attach and PortForward return:
//   /exec/<token>  /attach/<token>  /portforward/<token>
// Each connection is upgraded to SPDY/3.1 or WebSocket and served on a
// reactor of its own choosing; an unknown or used token gets 404.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "cri/context.hpp"
#include "cri/streaming/request_cache.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri::streaming {

class server {
 public:
  explicit server(context& ctx) : ctx_(ctx) {}

  // Binds and listens. Port 0: any free port.
  result<void> listen(const std::string& address, std::uint16_t port);
  // Serves on the pool, accepting on `core`.
  void start(unsigned core);
  // Stops accepting and shuts every open connection down, so their
  // sessions end (a running exec is killed). Thread-safe.
  void stop();
  // Blocks the calling (non-reactor) thread until no connection is open,
  // or `timeout` passed.
  void wait_idle(std::chrono::milliseconds timeout);

  // A URL for a request, good for one use within a minute.
  result<std::string> url_for(stream_request req);
  const std::string& base_url() const noexcept { return base_url_; }

 private:
  reactor::task<void> accept_loop();
  reactor::task<void> serve_connection(int fd);
  void track(int fd);
  void forget(int fd);

  context& ctx_;
  request_cache requests_;
  unique_fd listener_;
  std::string base_url_;

  std::mutex mutex_;
  std::set<int> open_;
  bool stopped_ = false;
};

}  // namespace ringcri::cri::streaming
