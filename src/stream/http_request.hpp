#pragma once
// The one HTTP/1.1 request a streaming connection starts with: read from
// the socket on the reactor and parsed (http_request_head.hpp) before the
// connection is upgraded to SPDY or WebSocket, or answered with an error.

#include <chrono>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "reactor/task.hpp"
#include "stream/http_request_head.hpp"

namespace ringcri::stream {

// Reads the request head from a connected socket. Bytes after the head
// (a client that did not wait for the 101) are left in `rest`. Fails on
// malformed requests, heads over 64 KiB, or when nothing comes before
// `timeout`.
reactor::task<result<http_request>> read_request(int fd, std::string& rest,
                                                 std::chrono::milliseconds timeout);

// Writes a complete response with a plain text body, then the caller
// closes the connection.
reactor::task<result<void>> write_error_response(int fd, int status, std::string_view reason,
                                                 std::string_view body);

}  // namespace ringcri::stream
