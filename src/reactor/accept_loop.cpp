#include "reactor/accept_loop.hpp"

#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::reactor {

task<void> accept_loop(int listener, const char* what, int flags, std::function<bool(int)> on_connection) {
  auto& stopping = reactor::current()->shutdown_token();
  for (;;) {
    auto fd = co_await accept(listener, nullptr, nullptr, flags).with_cancel(stopping);
    if (!fd) {
      int e = fd.error().value();
      if (e == ECANCELED || e == EINVAL) break;  // stopping
      if (e == EMFILE || e == ENFILE || e == ENOMEM) {
        spdlog::warn("msg=\"cannot accept a connection\" server=\"{}\" errno={}", what, e);
        co_await sleep_for(std::chrono::milliseconds(50));
      }
      continue;
    }
    if (!on_connection(*fd)) break;
  }
}

}  // namespace ringcri::reactor
