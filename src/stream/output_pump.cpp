#include "stream/output_pump.hpp"

#include <poll.h>

#include <array>
#include <cerrno>

#include "reactor/ops.hpp"

namespace ringcri::stream {

namespace io = reactor;

reactor::task<void> pump_output(int fd, const output_sink& sink, reactor::cancellation& stop) {
  if (fd < 0) co_return;
  std::array<std::byte, 32768> buf;
  bool client_ok = true;
  for (;;) {
    auto n = co_await io::read(fd, buf).with_cancel(stop);
    if (!n || *n == 0) break;
    if (!client_ok) continue;
    std::string_view chunk(reinterpret_cast<const char*>(buf.data()), *n);
    auto sent = co_await sink(chunk);
    if (!sent) client_ok = false;
  }
}

reactor::task<result<void>> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    auto n = co_await io::write(fd, std::as_bytes(std::span(data.data(), data.size())));
    if (!n && n.error().value() == EAGAIN) {  // a pty master shared with the keeper is non-blocking
      auto ready = co_await io::poll(fd, POLLOUT);
      if (!ready) co_return fail_errno(ready.error().value(), "wait to write to the stream");
      continue;
    }
    if (!n) co_return fail_errno(n.error().value(), "write to the stream");
    if (*n == 0) co_return fail(error_kind::unavailable, "write to the stream: nothing written");
    data.remove_prefix(*n);
  }
  co_return result<void>{};
}

}  // namespace ringcri::stream
