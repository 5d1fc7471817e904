#pragma once
// The one HTTP/1.1 request head a streaming connection starts with, and its
// parser (http-parser), sans I/O: the reader on the reactor
// (http_request.hpp) feeds it what the socket gives.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

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

class http_request_parser {
 public:
  // The most head bytes read before the request is refused.
  static constexpr std::size_t max_head = 64u << 10;

  http_request_parser();
  ~http_request_parser();
  // http-parser keeps a pointer to the state: not copied, not moved.
  http_request_parser(const http_request_parser&) = delete;
  http_request_parser& operator=(const http_request_parser&) = delete;

  // Parses the next bytes the connection gave, in pieces of any size. True
  // once the head is complete: the bytes of `chunk` after it (a client
  // that did not wait for the 101) are then in `rest`, and request() holds
  // the request. INVALID_ARGUMENT for a malformed request,
  // RESOURCE_EXHAUSTED for a head over max_head.
  result<bool> feed(std::string_view chunk, std::string& rest);
  // The request, once feed() returned true.
  http_request take_request();

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace ringcri::stream
