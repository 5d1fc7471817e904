#pragma once
// A TCP connection to a port inside a pod's network namespace, made from
// the daemon: the socket is created in the pod's namespace (sockets keep
// the namespace they were made in), then connected on the reactor.

#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri::streaming {

// `netns_path` empty: the host's namespace (a host-network pod). Connects
// to 127.0.0.1, then ::1 when IPv4 is refused.
reactor::task<result<unique_fd>> connect_in_pod(std::string netns_path, std::uint16_t port);

}  // namespace ringcri::cri::streaming
