#pragma once
// The one HTTP/1.1 request a streaming connection starts with: read and
// parsed (http-parser) before the connection is upgraded to SPDY or
// WebSocket, or answered with an error.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "reactor/task.hpp"

namespace ringcri::stream {

struct http_request {
  std::string method;
  std::string path;   // without the query
  std::string query;  // after '?', undecoded
  // Header names lowercased; a header sent several times keeps every value.
  std::multimap<std::string, std::string> headers;

  // The first value of a header, or empty.
  std::string header(std::string_view name) const;
  std::vector<std::string> header_values(std::string_view name) const;
  // The items of a comma-separated header, over every time it was sent,
  // trimmed, empty ones dropped.
  std::vector<std::string> header_list(std::string_view name) const;
  // Whether a comma-separated header lists `token` (case-insensitive).
  bool header_has_token(std::string_view name, std::string_view token) const;
  // Every value of a query parameter, percent-decoded.
  std::vector<std::string> query_values(std::string_view name) const;
};

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
