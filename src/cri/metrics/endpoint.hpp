#pragma once
// The Prometheus endpoint on `metrics_address`: GET /metrics, plain HTTP,
// served on one reactor like everything else (no thread of its own). Each
// connection answers one request and closes.

#include <atomic>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "cri/context.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

class metrics_endpoint {
 public:
  explicit metrics_endpoint(context& ctx) : ctx_(ctx) {}

  // "127.0.0.1:9090" or "[::1]:9090"; port 0 takes a free one.
  result<void> listen(const std::string& address);
  void start(unsigned core);
  // Stops accepting; a scrape in flight finishes on its own.
  void stop();
  // "http://127.0.0.1:9090/metrics"
  const std::string& url() const noexcept { return url_; }

 private:
  reactor::task<void> accept_loop();
  reactor::task<void> serve_connection(int fd);

  context& ctx_;
  unique_fd listener_;
  std::string url_;
};

}  // namespace ringcri::cri
