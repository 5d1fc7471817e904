#pragma once
// The one-time URLs Exec, Attach and PortForward hand out: a random token
// per request, good for one use within a minute. The RPC stores what was
// asked; the streaming server takes it back when the client connects.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/error.hpp"

namespace ringcri::cri::streaming {

struct exec_request {
  std::string container_id;
  std::vector<std::string> cmd;
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
};

struct attach_request {
  std::string container_id;
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
};

struct port_forward_request {
  std::string pod_id;
  std::vector<std::uint16_t> ports;
};

using stream_request = std::variant<exec_request, attach_request, port_forward_request>;

class request_cache {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr auto ttl = std::chrono::minutes(1);
  static constexpr std::size_t max_pending = 1000;

  // Stores a request; returns its token. RESOURCE_EXHAUSTED when too many
  // are waiting for their client.
  result<std::string> insert(stream_request req, clock::time_point now = clock::now());
  // Takes a request back: nullopt when the token is unknown, used or expired.
  std::optional<stream_request> take(const std::string& token, clock::time_point now = clock::now());

 private:
  struct entry {
    stream_request req;
    clock::time_point expires;
  };
  void drop_expired(clock::time_point now);

  std::mutex mutex_;
  std::map<std::string, entry> entries_;
};

}  // namespace ringcri::cri::streaming
