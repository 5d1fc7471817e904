#pragma once
// Port forwarding over the streaming server: each forwarded connection is
// a TCP connection to the port on the pod's loopback, made inside the
// pod's network namespace, copied both ways until both sides are done.
//   SPDY (portforward.k8s.io): the client opens a data and an error
//     stream per connection (headers streamtype, port, requestid).
//   WebSocket: one connection per port listed in the URL's `port`
//     parameters (else the request's), channels 2i (data) and 2i+1 (error),
//     each starting with the port as two little-endian bytes.

#include <string>

#include "cri/context.hpp"
#include "stream/http_request.hpp"
#include "cri/streaming/request_cache.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri::streaming {

reactor::task<void> serve_port_forward(context& ctx, const port_forward_request& req, int fd, const stream::http_request& http,
                                       std::string already_read);

}  // namespace ringcri::cri::streaming
