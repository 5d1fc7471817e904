#include "stream/http_request.hpp"

#include <fmt/format.h>

#include <array>

#include "reactor/ops.hpp"
#include "stream/output_pump.hpp"

namespace ringcri::stream {

namespace io = reactor;

reactor::task<result<http_request>> read_request(int fd, std::string& rest,
                                                 std::chrono::milliseconds timeout) {
  http_request_parser parser;
  auto deadline = io::clock::now() + timeout;
  std::array<std::byte, 4096> buf;
  for (;;) {
    auto n = co_await io::recv(fd, buf).with_deadline(deadline);
    if (!n) {
      if (n.error().value() == ETIMEDOUT || n.error().value() == ECANCELED)
        co_return fail(error_kind::deadline_exceeded, "no complete HTTP request in time");
      co_return fail_errno(n.error().value(), "read the HTTP request");
    }
    if (*n == 0)
      co_return fail(error_kind::invalid_argument,
                     "connection closed before a complete HTTP request");
    auto done = parser.feed(std::string_view(reinterpret_cast<const char*>(buf.data()), *n), rest);
    if (!done) co_return tl::unexpected(done.error());
    if (*done) break;
  }
  co_return parser.take_request();
}

reactor::task<result<void>> write_error_response(int fd, int status, std::string_view reason,
                                                 std::string_view body) {
  auto response = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      status, reason, body.size() + 1, body);
  response += '\n';
  co_return co_await write_all(fd, response);
}

}  // namespace ringcri::stream
