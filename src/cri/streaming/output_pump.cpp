#include "cri/streaming/output_pump.hpp"

#include <poll.h>

#include <array>
#include <cerrno>

#include "reactor/ops.hpp"

namespace ringcri::cri::streaming {

namespace io = reactor;

reactor::task<void> pump_output(int fd, const output_sink& sink, reactor::cancellation& stop) {
  std::array<std::byte, 32768> buf;
  bool client_ok = true;
  for (;;) {
    auto n = co_await io::read(fd, buf).with_cancel(stop);
    if (!n && n.error().value() == EAGAIN) {  // a non-blocking fd (shared with the keeper)
      auto ready = co_await io::poll(fd, POLLIN).with_cancel(stop);
      if (!ready) break;
      continue;
    }
    if (!n || *n == 0) break;
    if (!client_ok) continue;
    std::string_view chunk(reinterpret_cast<const char*>(buf.data()), *n);
    auto sent = co_await sink(chunk);
    if (!sent) client_ok = false;
  }
}

reactor::task<bool> write_input(int fd, std::string_view data) {
  while (!data.empty()) {
    auto n = co_await io::write(fd, std::as_bytes(std::span(data.data(), data.size())));
    if (!n && n.error().value() == EAGAIN) {
      auto ready = co_await io::poll(fd, POLLOUT);
      if (!ready) co_return false;
      continue;
    }
    if (!n || *n == 0) co_return false;
    data.remove_prefix(*n);
  }
  co_return true;
}

}  // namespace ringcri::cri::streaming
